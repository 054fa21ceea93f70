// shelf is a stand-in for a user's app in lowfare dev's tests, unlike
// links and guestbook: its page is an embedded template, it reads a
// secret, and it follows the app contract (it listens on $PORT). The
// tests edit copies of it to make it exit, listen on a literal port or
// fail to build.
package main

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"os"
)

//go:embed templates/*
var templates embed.FS

var page = template.Must(template.ParseFS(templates, "templates/*.html"))

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, os.Getenv("SHELF_TOKEN")) })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failed on purpose", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { _ = page.Execute(w, nil) })
	addr := "127.0.0.1:" + os.Getenv("PORT")
	fmt.Println("shelf listening on", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
