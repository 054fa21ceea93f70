package links

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	miniserver "github.com/truora/minidyn/server"
)

// TestStoreCallsAreBounded holds DynamoDB requests at a gate in front of a
// real minidyn: the store bounds its own table calls (store.Options.MaxCalls,
// which also covers misses and the click flusher), so with
// store.DefaultMaxCalls creates waiting there, another create
// must not reach the table (its expired context makes it give up at once
// with 503 instead of queueing), and once the gate opens all of them finish.
func TestStoreCallsAreBounded(t *testing.T) {
	mini := miniserver.NewServer()
	var open atomic.Bool
	gate := make(chan struct{})
	var arrived atomic.Int32
	var arrivedAll sync.WaitGroup
	arrivedAll.Add(store.DefaultMaxCalls)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutItem") {
			if arrived.Add(1) <= store.DefaultMaxCalls {
				arrivedAll.Done()
			}
			<-gate
		}
		mini.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b := ddbtest.Backend{Name: "gated minidyn", Endpoint: srv.URL, Client: ddbtest.NewClient(srv.URL)}
	table := ddbtest.TableName(t)
	if _, err := b.Client.CreateTable(context.Background(), store.TableInput(table)); err != nil {
		t.Fatal(err)
	}
	s := newServiceOn(t, b, table, Config{})

	codes := make(chan int, store.DefaultMaxCalls)
	for i := 0; i < store.DefaultMaxCalls; i++ {
		go func() {
			r := s.do(t, call{method: "POST", path: "/api/links", body: fmt.Sprintf(`{"url":"https://example.com","slug":"held%d"}`, i)})
			codes <- r.StatusCode
		}()
	}
	arrivedAll.Wait() // every slot is taken by a create waiting at the gate

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/api/links", strings.NewReader(`{"url":"https://example.com","slug":"extra"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("create beyond the bound: status %d, want 503", rec.Code)
	}
	// It gave up waiting for a slot, not inside the SDK.
	if !strings.Contains(s.logs.String(), "waiting for a free table call") {
		t.Errorf("the extra create did not wait for a slot; log:\n%s", s.logs.String())
	}
	if n := arrived.Load(); n != store.DefaultMaxCalls {
		t.Errorf("%d PutItems reached the table, want %d", n, store.DefaultMaxCalls)
	}

	open.Store(true)
	close(gate)
	for i := 0; i < store.DefaultMaxCalls; i++ {
		select {
		case c := <-codes:
			if c != http.StatusCreated {
				t.Errorf("held create: %d", c)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("held creates did not finish after the gate opened")
		}
	}
	// Redirects never wait for a slot.
	if r := s.do(t, call{method: "GET", path: "/held0"}); r.StatusCode != http.StatusFound {
		t.Errorf("redirect after: %d", r.StatusCode)
	}
}
