// A stand-in for a user's app, for lowfare dev's tests: standard library
// only, so it builds in a second. It follows the app contract and shows
// back what lowfare dev gave it.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

const version = "v1"

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /env/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.PathValue("name")))
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, version) })
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, os.Getpid()) })
	mux.HandleFunc("GET /host", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Host) })
	// echo shows what reached the app (query, cookies, the client's
	// address, the body) and sets two cookies: what an ingress and the
	// Lambda adapter must carry both ways.
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"cookie": r.Header.Get("Cookie"), "xff": r.Header.Get("X-Forwarded-For"),
			"body": body, "lambda": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		})
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		go os.Exit(3)
	})
	fmt.Println("devtestapp listening on", os.Getenv("PORT"))
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
