// Package ddbtest gives tests real DynamoDB-compatible endpoints, used
// through the real aws-sdk-go-v2 client: minidyn in-process (always there),
// dynalite, an independent implementation in Node.js, and moto's DynamoDB
// (Python), when they are installed. Tests that run against all three
// catch code that only works because of one implementation's quirks.
// FaultProxy puts delays, throttling and outages between a client and any
// of them.
package ddbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/testutil"
	miniserver "github.com/truora/minidyn/server"
)

// Backend is one DynamoDB-compatible endpoint.
type Backend struct {
	Name     string // "minidyn", "dynalite" or "moto"
	Endpoint string // base URL
	Client   *dynamodb.Client
	// Minidyn is the in-process server (minidyn only), for failure
	// injection: Minidyn.EmulateFailure(server.FailureConditionInternalServerError).
	Minidyn *miniserver.Server
	// SkipReason is set when the backend is not available; the backend's
	// subtest skips with it (see ForEach).
	SkipReason string
}

// ForEach runs fn as a subtest per backend, skipping unavailable ones
// with the reason. Each subtest gets its own backend instance, so tests
// stay independent, and the subtests run in parallel (moto alone takes
// seconds to start): fn must not use t.Setenv or other process state.
func ForEach(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, Start(t, name))
		})
	}
}

// Names are the backends ForEach runs on, in order.
var Names = []string{"minidyn", "dynalite", "moto"}

// Start returns the backend called name (one of Names), skipping the test
// when it is not installed (see Dynalite and Moto).
func Start(t testing.TB, name string) Backend {
	t.Helper()
	switch name {
	case "minidyn":
		return Minidyn(t)
	case "dynalite":
		return Dynalite(t)
	case "moto":
		return Moto(t)
	}
	t.Fatalf("ddbtest: unknown backend %q (have %v)", name, Names)
	return Backend{}
}

// Moto starts a private moto_server for the test (testutil.Moto: a skip
// without it, a failure with LOWFARE_REQUIRE_MOTO=1) and returns its
// DynamoDB. moto 5.2.1 quirks met so far: it does not serialise concurrent
// writes to one item (of 400 concurrent "ADD c :n" on one key it kept
// 396; two of 50 concurrent conditional PutItems with attribute_not_exists
// succeeded), so tests of such races skip on it; it creates tables ACTIVE
// at once and has UpdateTimeToLive (unlike minidyn and dynalite). Other
// quirks of the implementations: minidyn 0.8.2 answers an UpdateItem
// REMOVE without removing the attribute; dynalite and minidyn have no
// transactions.
func Moto(t testing.TB) Backend {
	t.Helper()
	u := testutil.Moto(t)
	return Backend{Name: "moto", Endpoint: u, Client: NewClient(u)}
}

// Minidyn starts an in-process minidyn server for the test's lifetime.
// Each call is a separate, empty database.
func Minidyn(t testing.TB) Backend {
	t.Helper()
	mini := miniserver.NewServer()
	srv := httptest.NewServer(mini)
	t.Cleanup(srv.Close)
	return Backend{
		Name:     "minidyn",
		Minidyn:  mini,
		Endpoint: srv.URL,
		Client:   NewClient(srv.URL),
	}
}

// Dynalite returns a dynalite backend, or skips the test saying why there
// is none. With LOWFARE_REQUIRE_DYNALITE=1 (CI) a missing dynalite fails
// the test instead.
func Dynalite(t testing.TB) Backend {
	t.Helper()
	b := dynaliteBackend(t)
	if b.SkipReason != "" {
		if requireDynalite() {
			t.Fatalf("dynalite is required (LOWFARE_REQUIRE_DYNALITE=1) but %s", b.SkipReason)
		}
		t.Skip(b.SkipReason)
	}
	return b
}

// NewClient returns a DynamoDB client for a local endpoint (see ddblocal).
func NewClient(endpoint string) *dynamodb.Client { return ddblocal.NewClient(endpoint) }

var nonTableChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// TableName returns a table name unique to this test (and this call):
// the test's name, cleaned, plus random hex. DynamoDB allows 3-255 of
// [A-Za-z0-9_.-].
func TableName(t testing.TB) string {
	t.Helper()
	base := nonTableChars.ReplaceAllString(t.Name(), "_")
	base = strings.Trim(base, "_")
	if len(base) > 200 {
		base = base[:200]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "t_" + base + "_" + hex.EncodeToString(b[:])
}

// NewTable creates a table named for the test (TableName) on b with
// create, the table's own constructor (store.CreateTable for the links
// table: this package cannot import the store, whose tests import it).
func NewTable(t testing.TB, b Backend, create func(context.Context, *dynamodb.Client, string) error) string {
	t.Helper()
	table := TableName(t)
	if err := create(Context(t), b.Client, table); err != nil {
		t.Fatalf("creating table %s: %v", table, err)
	}
	return table
}

// Context returns a context cancelled at the end of the test, with a
// generous deadline so a hung endpoint fails instead of hanging.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
