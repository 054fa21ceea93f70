// Package awsfake holds local stand-ins for AWS services: http.Handlers that
// answer each service's real wire protocol, so tests drive the real
// aws-sdk-go-v2 clients against 127.0.0.1 (through AWS_ENDPOINT_URL_<SERVICE>
// or a client's BaseEndpoint). Each fake keeps just enough state to make the
// behaviour under test observable, and records the operations it was asked
// for so a test can assert that no request was made at all.
package awsfake

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// maxBody bounds a request body a fake reads; real requests here are tiny.
const maxBody = 4 << 20

// APIError is an error a fake returns to the client. Type is the error
// shape's name (ParameterNotFound, ValidationException); Status defaults to 400.
type APIError struct {
	Status  int
	Type    string
	Message string
}

func (e *APIError) Error() string { return e.Type + ": " + e.Message }

// Errorf builds a 400 APIError of the given type.
func Errorf(typ, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// apiErrorOf is err as the fakes answer it: an *APIError as it is (status
// 0 meaning 400), anything else a 500 InternalFailure.
func apiErrorOf(err error) (ae *APIError, status int) {
	ae, ok := err.(*APIError)
	if !ok {
		ae = &APIError{Status: http.StatusInternalServerError, Type: "InternalFailure", Message: err.Error()}
	}
	status = ae.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return ae, status
}

// JSONOp handles one awsJson operation: body is the raw request JSON; the
// result is marshalled as the response. Return an *APIError for a modelled
// error; any other error becomes a 500 InternalFailure.
type JSONOp func(body []byte) (any, error)

// JSONService answers the awsJson 1.0 / 1.1 protocols: POST /, the operation
// named by the X-Amz-Target header "<TargetPrefix>.<Operation>", a JSON body,
// and errors as {"__type": ..., "message": ...}.
type JSONService struct {
	// TargetPrefix is the service's shape name as the SDK sends it in
	// X-Amz-Target, such as "AmazonSSM" or "AmazonEC2ContainerServiceV20141113".
	TargetPrefix string
	// Version is "1.0" or "1.1"; it sets the response Content-Type.
	Version string
	// Ops maps operation names to handlers.
	Ops map[string]JSONOp

	mu    sync.Mutex
	calls []string
}

// Calls returns the operation names received, in order, including unknown
// and rejected ones.
func (s *JSONService) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// CallCount returns how many times op was called.
func (s *JSONService) CallCount(op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c == op {
			n++
		}
	}
	return n
}

func (s *JSONService) record(op string) {
	s.mu.Lock()
	s.calls = append(s.calls, op)
	s.mu.Unlock()
}

// checksum sets DynamoDB's X-Amz-Crc32 response header, which DynamoDB
// always sends; the SDK (dynamodb v1.74) checks the body against it and
// logs a warning for every response without it.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
func (s *JSONService) checksum(w http.ResponseWriter, body []byte) {
	if strings.HasPrefix(s.TargetPrefix, "DynamoDB") {
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
}

// ServeHTTP implements http.Handler.
func (s *JSONService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, s.TargetPrefix+".")
	if !ok {
		op = target
	}
	s.record(op)
	if r.Method != http.MethodPost {
		s.writeError(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "UnknownOperationException", Message: "awsJson requests are POST"})
		return
	}
	if !ok {
		s.writeError(w, Errorf("UnknownOperationException", "X-Amz-Target %q is not %s.<Operation>", target, s.TargetPrefix))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-") {
		s.writeError(w, Errorf("SerializationException", "Content-Type %q is not application/x-amz-json-%s", ct, s.Version))
		return
	}
	handler, ok := s.Ops[op]
	if !ok {
		s.writeError(w, Errorf("UnknownOperationException", "operation %s is not implemented by this fake", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.writeError(w, Errorf("SerializationException", "reading body: %v", err))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		s.writeError(w, Errorf("SerializationException", "request body is not JSON"))
		return
	}
	out, err := handler(body)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-"+s.Version)
	w.Header().Set("X-Amzn-Requestid", "fake-request")
	s.checksum(w, data)
	_, _ = w.Write(data)
}

func (s *JSONService) writeError(w http.ResponseWriter, err error) {
	ae, status := apiErrorOf(err)
	w.Header().Set("Content-Type", "application/x-amz-json-"+s.Version)
	w.Header().Set("X-Amzn-Errortype", ae.Type)
	data, _ := json.Marshal(map[string]string{"__type": ae.Type, "message": ae.Message})
	s.checksum(w, data)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// Decode unmarshals a request body into v, turning a shape mismatch into
// the SerializationException the real services return.
func Decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "%v", err)
	}
	return nil
}

// Handle wraps a typed handler as a JSONOp: the body is decoded into In.
func Handle[In any](fn func(in In) (any, error)) JSONOp {
	return func(body []byte) (any, error) {
		var in In
		if err := Decode(body, &in); err != nil {
			return nil, err
		}
		return fn(in)
	}
}
