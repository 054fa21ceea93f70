package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

// links applies its own history: lowfare data migrate no longer does.
func TestLinksMigrate(t *testing.T) {
	b := ddbtest.Minidyn(t)
	table := ddbtest.NewTable(t, b, store.CreateTable)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	// A link written by a script: no listing keys.
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": s("LINK#old"), "SK": s("META"), "type": s("link"),
		"slug": s("old"), "url": s("https://example.com"), "created_at": s("2020-01-02T03:04:05Z")})
	env := map[string]string{"TABLE_NAME": table, "AWS_ENDPOINT_URL_DYNAMODB": b.Endpoint}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", b.Endpoint) // the SDK reads the process's own
	runMigrate := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"migrate"}, args...), func(k string) string { return env[k] }, &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, errOut := runMigrate("--dry-run")
	if code != 0 || !strings.Contains(out, "is at version 0; links knows 2") || !strings.Contains(out, "would apply 1 backfill-gsi1-keys") {
		t.Fatalf("dry run: exit %d, %q, %s", code, out, errOut)
	}
	if ddbtest.GetItem(t, b, table, "SCHEMA", "VERSION") != nil {
		t.Fatal("a dry run stored a version")
	}
	code, out, errOut = runMigrate()
	if code != 0 || !strings.Contains(out, "migrated from version 0 to 2") {
		t.Fatalf("migrate: exit %d, %q, %s", code, out, errOut)
	}
	if got := ddbtest.GetItem(t, b, table, "LINK#old", "META"); got["GSI1PK"] == nil {
		t.Fatalf("the link has no listing key after links migrate: %v", got)
	}
	if code, out, _ = runMigrate(); code != 0 || !strings.Contains(out, "at version 2: nothing to apply") {
		t.Fatalf("second migrate: exit %d, %q", code, out)
	}

	for _, args := range [][]string{{"extra"}, {"--nope"}} {
		if code, _, _ := runMigrate(args...); code != exitUsage {
			t.Errorf("links migrate %v: exit %d, want %d", args, code, exitUsage)
		}
	}
	delete(env, "TABLE_NAME")
	if code, _, errOut := runMigrate(); code != exitUsage || !strings.Contains(errOut, "TABLE_NAME is not set") {
		t.Errorf("without TABLE_NAME: exit %d, %s", code, errOut)
	}
}
