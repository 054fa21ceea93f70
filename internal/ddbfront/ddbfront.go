// Package ddbfront is an http.Handler in front of a DynamoDB-compatible
// endpoint (minidyn, for lowfare dev) that makes its answers match
// DynamoDB's where the endpoint's do not, so an app meets in dev the
// table it will meet in AWS.
package ddbfront

import (
	"bytes"
	"hash/crc32"
	"net/http"
	"strconv"
)

// Handler wraps next, the DynamoDB endpoint.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		writeAnswer(w, rec.header, rec.status, rec.body.Bytes())
	})
}

// writeAnswer sends an answer with DynamoDB's X-Amz-Crc32 header: the
// CRC32 (IEEE) of the body as a decimal. The AWS SDKs check it; the Go
// SDK (service/dynamodb internal/customizations/checksum.go) takes a
// missing header as checksum 0, fails the check when it closes the body
// and logs "failed to close HTTP response body" on every call.
func writeAnswer(w http.ResponseWriter, header http.Header, status int, body []byte) {
	h := w.Header()
	for k, v := range header {
		h[k] = v
	}
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// recorder keeps the endpoint's answer so the checksum covers the body
// as sent, after any rewrite.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
