package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/ddbtest"
)

// throttler sits between the SDK and minidyn and behaves as a busy
// provisioned table does on the wire: it refuses the first scans with
// ProvisionedThroughputExceededException and, of every BatchWriteItem,
// writes only the first half and hands the rest back as UnprocessedItems.
type throttler struct {
	next          http.Handler
	mu            sync.Mutex
	scansToRefuse int
	refused       int
	batches       int
}

func (th *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	th.mu.Lock()
	refuse := op == "Scan" && th.refused < th.scansToRefuse
	if refuse {
		th.refused++
	}
	th.mu.Unlock()
	if refuse {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`)
		return
	}
	if op != "BatchWriteItem" {
		th.next.ServeHTTP(w, r)
		return
	}
	th.mu.Lock()
	th.batches++
	th.mu.Unlock()
	var in struct {
		RequestItems map[string][]json.RawMessage
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	unprocessed := map[string][]json.RawMessage{}
	for table, reqs := range in.RequestItems {
		if len(reqs) > 1 {
			half := len(reqs) / 2
			unprocessed[table] = reqs[half:]
			in.RequestItems[table] = reqs[:half]
		}
	}
	body, _ = json.Marshal(in)
	rec := httptest.NewRecorder()
	r2 := r.Clone(r.Context())
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r2.Header.Del("Content-Length")
	th.next.ServeHTTP(rec, r2)
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(map[string]any{"UnprocessedItems": unprocessed})
}

// throttledClient is a client for minidyn through th that does not retry
// by itself, so the retries under test are this package's.
func throttledClient(t *testing.T, b ddbtest.Backend, th *throttler) *dynamodb.Client {
	u, _ := url.Parse(b.Endpoint)
	th.next = httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(th)
	t.Cleanup(srv.Close)
	return dynamodb.New(ddblocal.NewClient(srv.URL).Options(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}

func TestThrottledExportAndImport(t *testing.T) {
	b := ddbtest.Minidyn(t)
	src := newTable(t, b)
	seed(t, b, src, 20)
	want := dump(t, b.Client, src)

	th := &throttler{scansToRefuse: 3}
	c := throttledClient(t, b, th)
	clock := newFakeClock()
	backoff := Backoff{Base: time.Second, Max: 8 * time.Second, Attempts: 10, Clock: clock, Jitter: func() float64 { return 1 }}

	var buf bytes.Buffer
	// The refused scans fall on whichever come first: minidyn's probe of
	// the key types, then the pages.
	sum, err := Export(ddbtest.Context(t), c, &buf, ExportOptions{Table: src, Segments: 1, Backoff: backoff, Clock: clock})
	if err != nil {
		t.Fatalf("Export through throttling: %v", err)
	}
	if sum.Items != int64(len(want)) {
		t.Fatalf("exported %d items, want %d", sum.Items, len(want))
	}
	if !slices.Equal(clock.slept, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}) {
		t.Fatalf("backoff before the retried scans: %v, want 1s 2s 4s", clock.slept)
	}

	dst := newTable(t, b)
	clock.slept = nil
	res, err := Import(ddbtest.Context(t), c, bytes.NewReader(buf.Bytes()), ImportOptions{Table: dst, Mode: ModeOverwrite, Backoff: backoff, Clock: clock})
	if err != nil {
		t.Fatalf("Import with unprocessed items: %v", err)
	}
	if res.Written != int64(len(want)) {
		t.Fatalf("Written = %d, want %d", res.Written, len(want))
	}
	if got := dump(t, b.Client, dst); !slices.Equal(got, want) {
		t.Fatal("the imported table differs after unprocessed items were retried")
	}
	// A batch of 25 is halved until one item is left: 25 -> 13 -> 7 -> 4 -> 2 -> 1, five retries.
	if len(clock.slept) == 0 || th.batches <= (len(want)+24)/25 {
		t.Fatalf("%d batch calls and %d pauses: unprocessed items were not retried with backoff", th.batches, len(clock.slept))
	}

	// A table that never recovers: the export gives up, saying so.
	th.mu.Lock()
	th.scansToRefuse, th.refused = 1000, 0
	th.mu.Unlock()
	backoff.Attempts = 4
	_, err = Export(ddbtest.Context(t), c, io.Discard, ExportOptions{Table: src, Segments: 1, Backoff: backoff, Clock: clock})
	if !errors.Is(err, ErrThrottled) || !strings.Contains(err.Error(), "lower --rate") {
		t.Fatalf("Export against endless throttling: %v, want ErrThrottled", err)
	}
}
