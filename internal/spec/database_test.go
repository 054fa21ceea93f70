package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// A database section written with engine alone takes the documented
// defaults for its profile: free pauses after 15m, ha never pauses, both
// stop at 2 ACU; a sleeping service then serves the waking page.
func TestDatabaseDefaults(t *testing.T) {
	for _, tc := range []struct {
		file  string
		want  Database
		serve string
	}{
		{"app: shop\ndatabase: {engine: postgres}\n", Database{Engine: "postgres", PauseAfter: "15m", MaxACU: 2}, ""},
		{"app: shop\ndatabase: {}\n", Database{Engine: "postgres", PauseAfter: "15m", MaxACU: 2}, ""},
		{"app: shop\ndatabase: {max_acu: 4.5}\n", Database{Engine: "postgres", PauseAfter: "15m", MaxACU: 4.5}, ""},
		{"app: shop\nprofile: ha\ndatabase: {engine: postgres}\n", Database{Engine: "postgres", MaxACU: 2}, ""},
		{"app: shop\nservice: {count: {min: 0}, idle: {after: 15m}}\ndatabase: {pause_after: 1h}\n", Database{Engine: "postgres", PauseAfter: "1h", MaxACU: 2}, ServePage},
	} {
		s, err := Parse("lowfare.yaml", []byte(tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if s.Database == nil || *s.Database != tc.want {
			t.Errorf("%s: database %+v, want %+v", tc.file, s.Database, tc.want)
		}
		if tc.serve != "" && s.Service.Idle.Serve != tc.serve {
			t.Errorf("%s: serve %q, want %q", tc.file, s.Service.Idle.Serve, tc.serve)
		}
		if err := Validate(s); err != nil {
			t.Errorf("%s: loads, and Validate refuses it: %v", tc.file, err)
		}
	}
	for _, file := range []string{"app: shop\n", "app: shop\ndatabase:\n"} {
		s, err := Parse("lowfare.yaml", []byte(file))
		if err != nil || s.Database != nil || s.HasDatabase() {
			t.Errorf("%q: database %+v, %v; want none", file, s.Database, err)
		}
	}
}

// Each refusal names the field, says what is wrong and what to write.
func TestDatabaseRefusals(t *testing.T) {
	for _, tc := range []struct {
		file, path, words string
	}{
		{"app: shop\nprofile: serverless\nservice: {image: .}\ndatabase: {engine: postgres}\n", "database", "NAT gateway"},
		{"app: shop\ndatabase: {engine: mysql}\n", "database.engine", "use postgres"},
		{"app: shop\ndatabase: {pause_after: 4m}\n", "database.pause_after", "outside Aurora's 5m to 24h"},
		{"app: shop\ndatabase: {pause_after: 25h}\n", "database.pause_after", "outside Aurora's 5m to 24h"},
		{"app: shop\ndatabase: {pause_after: soon}\n", "database.pause_after", "not a duration"},
		{"app: shop\ndatabase: {pause_after: \"\"}\n", "database.pause_after", "empty"},
		{"app: shop\nprofile: ha\ndatabase: {pause_after: 15m}\n", "database.pause_after", "profile ha never pauses"},
		{"app: shop\ndatabase: {max_acu: 0.5}\n", "database.max_acu", "outside Aurora Serverless v2's range"},
		{"app: shop\ndatabase: {max_acu: 257}\n", "database.max_acu", "outside Aurora Serverless v2's range"},
		{"app: shop\ndatabase: {max_acu: 2.3}\n", "database.max_acu", "use 2 or 2.5"},
		{"app: shop\nservice: {count: {min: 0}, idle: {after: 15m, serve: app}}\ndatabase: {engine: postgres}\n", "service.idle.serve", "use serve: page"},
		{"app: shop\nservice: {env: {DATABASE_URL: x}}\ndatabase: {engine: postgres}\n", "service.env.DATABASE_URL", "set by lowfare for the database"},
		{"app: shop\nservice: {secrets: [PGPASSWORD]}\ndatabase: {engine: postgres}\n", "service.secrets[0]", "set by lowfare for the database"},
	} {
		_, err := Parse("lowfare.yaml", []byte(tc.file))
		var probs *Problems
		if !errors.As(err, &probs) {
			t.Errorf("%s: loads (%v), want a refusal at %s", tc.file, err, tc.path)
			continue
		}
		found := false
		for _, p := range probs.List {
			if p.Path == tc.path && strings.Contains(p.Msg, tc.words) && p.Pos.Line > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %v\nwant a problem at %s (with its line) saying %q", tc.file, err, tc.path, tc.words)
		}
	}
	// Without a database the names are the app's own.
	if _, err := Parse("lowfare.yaml", []byte("app: shop\nservice: {env: {DATABASE_URL: x}}\n")); err != nil {
		t.Errorf("DATABASE_URL without a database: %v", err)
	}
}

func TestDatabaseNames(t *testing.T) {
	s := Default()
	s.App = "my-shop"
	if got := s.DatabaseName(); got != "my_shop" {
		t.Errorf("DatabaseName = %q", got)
	}
	if got, want := s.DatabaseURL("db.example", 5432, "require"), "postgres://lowfare@db.example:5432/my_shop?sslmode=require"; got != want {
		t.Errorf("DatabaseURL = %q, want %q", got, want)
	}
}

// init's file shows the section commented out on the profiles that take
// one, and a spec with a database round-trips through it.
func TestCommentedYAMLDatabase(t *testing.T) {
	for _, profile := range []string{ProfileFree, ProfileHA} {
		s, err := New("shop", profile, "")
		if err != nil {
			t.Fatal(err)
		}
		if out := string(s.CommentedYAML()); !strings.Contains(out, "# database:\n#   engine: postgres") {
			t.Errorf("%s: no commented database section:\n%s", profile, out)
		}
		s.Database = &Database{Engine: EnginePostgres, MaxACU: 3.5}
		if profile == ProfileFree {
			s.Database.PauseAfter = "30m"
		}
		got, err := Parse("lowfare.yaml", s.CommentedYAML())
		if err != nil {
			t.Fatalf("%s\n%v", s.CommentedYAML(), err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%s:\n%s\ngot  %+v\nwant %+v", profile, s.CommentedYAML(), got.Database, s.Database)
		}
	}
	s, err := New("shop", ProfileServerless, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(s.CommentedYAML()), "database") {
		t.Errorf("serverless takes no database, and init's file offers one:\n%s", s.CommentedYAML())
	}
}
