package data

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// testMigrate runs a history of two migrations that write items of their
// own (the links history and its tests live in internal/links): versions,
// the lock released, a second run that does nothing, and a table migrated
// by a newer history refused.
func testMigrate(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	seed(t, b, table, 3)
	mark := func(id int, sk string) Migration {
		return Migration{ID: id, Name: "mark-" + sk, Up: func(ctx context.Context, m *Migrator) error {
			_, err := m.Put(ctx, &dynamodb.PutItemInput{
				Item:                map[string]types.AttributeValue{"PK": s("MARK"), "SK": s(sk)},
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}, 1)
			return err
		}}
	}
	list := []Migration{mark(1, "one"), mark(2, "two")}

	var log strings.Builder
	m := &Migrator{DDB: b.Client, Table: table, Owner: "test", Log: &log}
	plan, err := m.Plan(ctx, list)
	if err != nil || plan.Current != 0 || len(plan.Pending) != 2 {
		t.Fatalf("Plan = %+v, %v; want version 0 and 2 pending", plan, err)
	}
	before := dump(t, b.Client, table)
	res, err := m.Migrate(ctx, list)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if res.From != 0 || res.To != 2 || len(res.Applied) != 2 {
		t.Fatalf("Migrate = %+v", res)
	}
	if !strings.Contains(log.String(), "applied  1 mark-one (1 items changed)") || !strings.Contains(log.String(), "applied  2 mark-two (1 items changed)") {
		t.Errorf("log:\n%s", log.String())
	}
	if v, err := m.Version(ctx); err != nil || v != 2 {
		t.Fatalf("Version = %d, %v; want 2", v, err)
	}
	if ddbtest.GetItem(t, b, table, schemaPK, lockSK) != nil {
		t.Fatal("the lock is still held after Migrate")
	}
	after := dump(t, b.Client, table)
	if changed := len(slices.DeleteFunc(slices.Clone(after), func(x string) bool { return slices.Contains(before, x) })); changed != 3 {
		t.Fatalf("%d items new or changed, want 3 (two marks, the version item)", changed)
	}

	// Again: nothing pending, nothing written.
	res, err = m.Migrate(ctx, list)
	if err != nil || len(res.Applied) != 0 || res.To != 2 {
		t.Fatalf("second Migrate = %+v, %v", res, err)
	}
	if got := dump(t, b.Client, table); !slices.Equal(got, after) {
		t.Fatal("a second Migrate changed the table")
	}

	// A table migrated by a newer lowfare is refused.
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": s(schemaPK), "SK": s(versionSK), "version": &types.AttributeValueMemberN{Value: "9"}})
	if _, err := m.Migrate(ctx, list); !errors.Is(err, ErrAhead) {
		t.Fatalf("Migrate of a newer table: %v, want ErrAhead", err)
	}
}

func testMigrateLock(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	clock := newFakeClock()

	// Run one migration that blocks until released; a second run meanwhile is refused.
	entered, release := make(chan struct{}), make(chan struct{})
	list := []Migration{{ID: 1, Name: "slow", Up: func(ctx context.Context, m *Migrator) error {
		close(entered)
		<-release
		return nil
	}}}
	first := &Migrator{DDB: b.Client, Table: table, Owner: "first", Clock: clock}
	done := make(chan error, 1)
	go func() { _, err := first.Migrate(ctx, list); done <- err }()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("first Migrate ended before its migration ran: %v", err)
	}

	second := &Migrator{DDB: b.Client, Table: table, Owner: "second", Clock: clock}
	_, err := second.Migrate(ctx, list)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "first holds it") {
		t.Fatalf("concurrent Migrate: %v, want ErrLocked naming first", err)
	}
	if plan, err := second.Plan(ctx, list); err != nil || len(plan.Pending) != 1 {
		t.Fatalf("a dry run while locked = %+v, %v; want it to list the pending migration", plan, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if v, _ := second.Version(ctx); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}

	// A lock left by a run that died expires, and the next run takes it over;
	// the dead run, should it wake, finds it lost.
	list = append(list, Migration{ID: 2, Name: "noop", Up: func(context.Context, *Migrator) error { return nil }})
	first.init()
	if err := first.lock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Migrate(ctx, list); !errors.Is(err, ErrLocked) {
		t.Fatalf("Migrate before the lock expired: %v", err)
	}
	clock.advance(DefaultLockTTL + time.Second)
	if res, err := second.Migrate(ctx, list); err != nil || res.To != 2 {
		t.Fatalf("Migrate after the lock expired = %+v, %v", res, err)
	}
	if err := first.renew(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("renew of a lock taken over: %v, want ErrLockLost", err)
	}
}

func TestCheckMigrations(t *testing.T) {
	up := func(context.Context, *Migrator) error { return nil }
	for name, list := range map[string][]Migration{
		"gap":          {{ID: 1, Name: "a", Up: up}, {ID: 3, Name: "b", Up: up}},
		"from zero":    {{ID: 0, Name: "a", Up: up}},
		"no name":      {{ID: 1, Up: up}},
		"no up":        {{ID: 1, Name: "a"}},
		"out of order": {{ID: 2, Name: "b", Up: up}, {ID: 1, Name: "a", Up: up}},
	} {
		if err := CheckMigrations(list); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
