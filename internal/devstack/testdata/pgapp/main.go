// A stand-in for a user's app with a database, for lowfare dev's tests:
// standard library only, it talks to Postgres through psql (the reference
// libpq client, $PSQL), which reads the same PG* variables and
// DATABASE_URL any Postgres driver does.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
)

func main() {
	psql := os.Getenv("PSQL")
	if psql == "" {
		psql = "psql"
	}
	// query runs SQL (with :'body' bound to body) through psql, either
	// from the PG* variables or, with url, from DATABASE_URL and
	// PGPASSWORD alone (the URL holds no password, as on AWS).
	query := func(sql, body string, url bool) (string, error) {
		args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "body=" + body}
		cmd := exec.Command(psql, args...)
		if url {
			cmd.Args = append(cmd.Args, os.Getenv("DATABASE_URL"))
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "PGPASSWORD=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
		}
		cmd.Stdin = strings.NewReader(sql)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, out)
		}
		return string(out), nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /env/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.PathValue("name")))
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := query("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL);\nINSERT INTO notes (body) VALUES (:'body');\n", string(body), false)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		out, err := query("SELECT body FROM notes ORDER BY id;\n", "", r.URL.Query().Has("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, out)
	})
	fmt.Println("pgapp listening on", os.Getenv("PORT"))
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
