package links

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/testutil"
)

const testToken = "s3cret-admin-token-value"

// testService is the handler over a real store on an in-process minidyn.
type testService struct {
	h     http.Handler
	st    *store.Store
	logs  *testutil.Buffer
	ddb   *dynamodb.Client // the table's endpoint, to read it past st's buffer
	table string
}

// newTestService starts minidyn, creates a fresh table and returns the
// service on it. Clicks are flushed only when the test calls Flush, so
// counts are deterministic.
func newTestService(t testing.TB, cfg Config) *testService {
	t.Helper()
	b := ddbtest.Minidyn(t)
	table := ddbtest.TableName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// minidyn creates tables synchronously, so the CreateTable call is
	// enough; store.CreateTable's own behaviour is the store's tests' job.
	if _, err := b.Client.CreateTable(ctx, store.TableInput(table)); err != nil {
		t.Fatal(err)
	}
	return newServiceOn(t, b, table, cfg)
}

func newServiceOn(t testing.TB, b ddbtest.Backend, table string, cfg Config) *testService {
	t.Helper()
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	t.Cleanup(func() { st.Close(context.Background()) })
	logs := &testutil.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	cfg.TableName = table
	if cfg.RequestLog == nil {
		cfg.RequestLog = logs
	}
	if cfg.CreateRate == 0 {
		// Tests create many links from one address; the limit has its
		// own tests, which set CreateRate.
		cfg.CreateRate = -1
	}
	return &testService{h: NewHandler(st, cfg, log), st: st, logs: logs, ddb: b.Client, table: table}
}

type call struct {
	method, path, body string
	header             map[string]string
}

func (s *testService) do(t testing.TB, c call) *http.Response {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.method == http.MethodPost && strings.HasPrefix(c.path, "/api/") {
		req.Header.Set("Content-Type", "application/json") // a test may override it
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t testing.TB, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode[T any](t testing.TB, r *http.Response) T {
	t.Helper()
	var v T
	body := readBody(t, r)
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	return v
}

func (s *testService) create(t testing.TB, url, slug string) linkJSON {
	t.Helper()
	b, _ := json.Marshal(createRequest{URL: url, Slug: slug})
	resp := s.do(t, call{method: "POST", path: "/api/links", body: string(b)})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create %s %s: %d %s", url, slug, resp.StatusCode, readBody(t, resp))
	}
	return decode[linkJSON](t, resp)
}

func (s *testService) flush(t testing.TB) {
	t.Helper()
	if err := s.st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
