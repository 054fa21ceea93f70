package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommentedYAMLRoundTrips(t *testing.T) {
	tests := []struct{ app, profile, ingress string }{
		{"", "", ""},
		{"shop", ProfileFree, IngressAPIGW},
		{"shop", ProfileHA, ""},
		{"shop", ProfileHA, IngressAPIGW},
		{"shop", ProfileServerless, ""},
		{"shop", ProfileServerless, IngressAPIGW},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.ingress, func(t *testing.T) {
			want, err := New(tt.app, tt.profile, tt.ingress)
			if err != nil {
				t.Fatal(err)
			}
			text := want.CommentedYAML()
			got, err := Parse("lowfare.yaml", text)
			if err != nil {
				t.Fatalf("written file does not load:\n%s\n%v", text, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip differs:\n%s\ngot  %+v\nwant %+v", text, got, want)
			}
		})
	}
}

// TestCommentedYAMLQuotesAwkwardValues writes values YAML would misread
// unquoted and checks they come back unchanged.
func TestCommentedYAMLQuotesAwkwardValues(t *testing.T) {
	s := Default()
	s.Service.Env = map[string]string{"A": "yes", "B": "8080", "C": "a: b # c", "D": "", "E": "ünïcode \"quoted\""}
	s.Tags = map[string]string{"team name": "web/api", "x": "null"}
	s.Service.Schedule = &Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00, Sat 10:00-14:00"}
	s.Budget.MonthlyUSD = 7.25
	got, err := Parse("lowfare.yaml", s.CommentedYAML())
	if err != nil {
		t.Fatalf("%s\n%v", s.CommentedYAML(), err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v\nwant %+v", got, s)
	}
}

func TestCommentedYAMLCommentsEveryField(t *testing.T) {
	text := string(Default().CommentedYAML())
	for _, want := range []string{"# free | ha | serverless", "# arm64 | x86_64", "# schedule: {timezone: Europe/Berlin", "# provisioned | on-demand", "SSM SecureString /lowfare/links/dev/<NAME>", "# used by the cost estimate"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
}

func TestNewRejectsBadChoices(t *testing.T) {
	for _, args := range [][3]string{{"Bad App", "", ""}, {"shop", "prod", ""}, {"shop", "free", "url"}, {"shop", "serverless", "alb"}} {
		if _, err := New(args[0], args[1], args[2]); err == nil {
			t.Errorf("New%v succeeded", args)
		}
	}
}

// The app's own settings (an image reference with its own user, a health
// command, extra permissions, read-only table access) round-trip too.
func TestCommentedYAMLRoundTripsAppSettings(t *testing.T) {
	s := Default()
	s.Service.Image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1"
	s.Service.User, s.Service.ReadonlyRoot = "", false
	s.Service.Health.Command = []string{"CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz || exit 1"}
	s.Service.Permissions = []Permission{{Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::shop/*"}}, {Actions: []string{"cloudwatch:PutMetricData"}, Resources: []string{"*"}}}
	s.Table.Access = AccessReadOnly
	got, err := Parse("lowfare.yaml", s.CommentedYAML())
	if err != nil {
		t.Fatalf("%s\n%v", s.CommentedYAML(), err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("%s\ngot  %+v\nwant %+v", s.CommentedYAML(), got, s)
	}
}

// Sleeping for lack of requests, and the traffic the estimate assumes for
// it, round-trip too: the CLI rechecks a spec after --region through this
// file, so a field left out would go unchecked.
func TestCommentedYAMLRoundTripsIdle(t *testing.T) {
	for _, serve := range []string{ServeApp, ServePage} {
		s := Default()
		s.Service.Count.Min = 0
		s.Service.Idle = &Idle{After: "1h30m", Serve: serve}
		s.Workload.ActiveHours = 12.5
		got, err := Parse("lowfare.yaml", s.CommentedYAML())
		if err != nil {
			t.Fatalf("%s\n%v", s.CommentedYAML(), err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("serve %s:\n%s\ngot  %+v %+v\nwant %+v %+v", serve, s.CommentedYAML(), got.Service.Idle, got.Workload, s.Service.Idle, s.Workload)
		}
	}
}
