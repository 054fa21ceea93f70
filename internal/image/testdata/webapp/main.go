// Command webapp is a fixture for the image tests: an app that follows
// lowfare's app contract and nothing else (listens on $PORT, answers
// /health, standard library only), like a user's first service.
//
//	GET  /health  200 "ok"
//	ANY  /echo    JSON of what arrived: method, path, query, the headers
//	              the adapter sets, the body as base64; two Set-Cookie
//	              headers and a repeated X-Multi header on the way back
//	GET  /binary  bytes 0..255 as application/octet-stream
//	GET  /gzip    a gzip-encoded text body
package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/; HttpOnly")
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"method":          r.Method,
			"path":            r.URL.Path,
			"rawQuery":        r.URL.RawQuery,
			"host":            r.Host,
			"cookie":          r.Header.Get("Cookie"),
			"xForwardedFor":   r.Header.Get("X-Forwarded-For"),
			"xForwardedProto": r.Header.Get("X-Forwarded-Proto"),
			"contentType":     r.Header.Get("Content-Type"),
			"accept":          r.Header.Values("Accept"),
			"body":            body, // base64 in JSON
		})
	})
	mux.HandleFunc("GET /binary", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	})
	mux.HandleFunc("GET /gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, "compressed text\n")
		zw.Close()
	})
	log.Printf("webapp listening on :%s", port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, mux))
}
