package awsfake

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Lambda is a fake of Lambda's Invoke (REST-JSON: POST
// /2015-03-31/functions/{name}/invocations), for a function whose code the
// test supplies as Handler: moto runs Lambda functions only in Docker.
// Handler gets the function's name and the payload and returns the
// response payload, and a non-empty functionError for a function that
// failed (X-Amz-Function-Error, with a 200 status, as Lambda answers it).
//
// It also answers GetAccountSettings (GET /2016-08-19/account-settings/)
// with ConcurrencyLimit and Unreserved, 1000 each (AWS's default) when 0.
type Lambda struct {
	Handler func(function string, payload []byte) (result []byte, functionError string)
	// ConcurrencyLimit and Unreserved are the account's concurrent
	// executions and what no function has reserved of them.
	ConcurrencyLimit, Unreserved int

	mu    sync.Mutex
	calls []string
}

// Calls returns "function payload" for each invocation, in order.
func (f *Lambda) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Lambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSuffix(r.URL.Path, "/") == "/2016-08-19/account-settings" && r.Method == http.MethodGet {
		limit, unreserved := f.ConcurrencyLimit, f.Unreserved
		if limit == 0 {
			limit, unreserved = 1000, 1000
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"AccountLimit":{"ConcurrentExecutions":%d,"UnreservedConcurrentExecutions":%d},"AccountUsage":{"FunctionCount":0}}`, limit, unreserved)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(rest, "/invocations")
	if !ok || !ok2 || r.Method != http.MethodPost {
		w.Header().Set("X-Amzn-Errortype", "UnknownOperationException")
		http.Error(w, `{"message":"only Invoke and GetAccountSettings are faked"}`, http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, name+" "+string(body))
	f.mu.Unlock()
	if f.Handler == nil {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"Type":"User","message":"Function not found: `+name+`"}`)
		return
	}
	out, fnErr := f.Handler(name, body)
	if fnErr != "" {
		w.Header().Set("X-Amz-Function-Error", fnErr)
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	_, _ = w.Write(out)
}
