// Package ddbfront is an http.Handler in front of a DynamoDB-compatible
// endpoint (minidyn, for lowfare dev) that makes its answers match
// DynamoDB's where the endpoint's do not, so an app meets in dev the
// table it will meet in AWS: the X-Amz-Crc32 header, the 400 KB item
// limit, ReturnValues, one cancellation reason per transaction item,
// REMOVE, and the validation DynamoDB does before it reads or writes
// (empty key values, consistent reads on a GSI, duplicate keys, Query
// key conditions), and PartiQL, which minidyn lacks, for the statements
// single-table apps use (partiql.go). Each difference was found by the
// differential test against moto (diff_test.go, partiql_test.go), which
// keeps them fixed.
//
// The front serialises writes (it reads an item around some of them)
// and buffers every answer: fine for a developer's table, not for load.
package ddbfront

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// maxRequest bounds the request body the front reads. DynamoDB's largest
// request (TransactWriteItems: 100 items of 400 KB, 4 MB in all) is well
// below it.
const maxRequest = 32 << 20

const targetPrefix = "DynamoDB_20120810."

// Handler wraps next, the DynamoDB endpoint.
func Handler(next http.Handler) http.Handler {
	return &front{next: next}
}

type front struct {
	next http.Handler
	// writes serialises the writes the front reads around (an item
	// before and after an update), so no other write lands in between.
	// A dev table has one user; the cost is nothing.
	writes sync.Mutex
}

// answer is one answer of the endpoint, or of the front.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest {
		// Not a DynamoDB request (or a broken one): the endpoint answers.
		writeAnswer(w, f.forward(r, body))
		return
	}
	writeAnswer(w, f.serve(r, action, body))
}

// serve answers one DynamoDB request: the front's own checks and fixes,
// or the endpoint's answer.
func (f *front) serve(r *http.Request, action string, body []byte) answer {
	if e := countChecks(action, body); e != nil {
		return *e
	}
	switch action {
	case "PutItem":
		return f.putItem(r, body)
	case "UpdateItem":
		return f.updateItem(r, body)
	case "BatchWriteItem":
		return f.batchWriteItem(r, body)
	case "TransactWriteItems":
		return f.transactWriteItems(r, body)
	case "BatchGetItem":
		return f.batchGetItem(r, body)
	case "GetItem", "DeleteItem":
		return f.keyed(r, body)
	case "Query", "Scan":
		return f.read(r, body)
	case "ExecuteStatement":
		return f.executeStatement(r, body)
	case "BatchExecuteStatement":
		return f.batchExecuteStatement(r, body)
	case "ExecuteTransaction":
		return f.executeTransaction(r, body)
	}
	return f.forward(r, body)
}

// op makes a request of the front's own through the front itself, so
// its checks and fixes apply as to the app's requests: action with input
// as JSON.
func (f *front) op(r *http.Request, action string, input any) answer {
	r2, body, a := ownRequest(r, action, input)
	if r2 == nil {
		return a
	}
	return f.serve(r2, action, body)
}

// ownRequest is a request of the front's own, cloned from the app's r:
// action with input as JSON; on failure, the error answer.
func ownRequest(r *http.Request, action string, input any) (*http.Request, []byte, answer) {
	body, err := json.Marshal(input)
	if err != nil {
		return nil, nil, errorAnswer("InternalServerError", err.Error())
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("X-Amz-Target", targetPrefix+action)
	r2.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return r2, body, answer{}
}

// forward passes the request on to the endpoint with body.
func (f *front) forward(r *http.Request, body []byte) answer {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	f.next.ServeHTTP(rec, r2)
	return answer{status: rec.status, header: rec.header, body: rec.body.Bytes()}
}

// call makes a request of the front's own to the endpoint: action with
// input as JSON.
func (f *front) call(r *http.Request, action string, input any) answer {
	r2, body, a := ownRequest(r, action, input)
	if r2 == nil {
		return a
	}
	return f.forward(r2, body)
}

// errorAnswer is a DynamoDB error answer, as DynamoDB sends it.
func errorAnswer(typ, message string) answer {
	status := http.StatusBadRequest
	if typ == "InternalServerError" {
		status = http.StatusInternalServerError
	}
	body, _ := json.Marshal(map[string]string{
		"__type":  "com.amazonaws.dynamodb.v20120810#" + typ,
		"message": message,
	})
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return answer{status: status, header: h, body: body}
}

// writeAnswer sends an answer with DynamoDB's X-Amz-Crc32 header: the
// CRC32 (IEEE) of the body as a decimal. The AWS SDKs check it; the Go
// SDK (service/dynamodb internal/customizations/checksum.go) takes a
// missing header as checksum 0, fails the check when it closes the body
// and logs "failed to close HTTP response body" on every call.
func writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(a.body)), 10))
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// recorder keeps the endpoint's answer so the front can look at it and
// the checksum covers the body as sent, after any rewrite.
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
