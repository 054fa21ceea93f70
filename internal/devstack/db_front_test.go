package devstack

import (
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddblocal"
)

// TestDevEndpointAnswersLikeDynamoDB checks that the endpoint lowfare dev
// gives the app is minidyn behind ddbfront: its answers carry
// X-Amz-Crc32, which minidyn alone does not send (ddbfront's tests cover
// the rest).
func TestDevEndpointAnswersLikeDynamoDB(t *testing.T) {
	ep, _, stop, err := startMinidyn()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	if got := resp.Header.Get("X-Amz-Crc32"); got != want {
		t.Errorf("X-Amz-Crc32 = %q, want %q (CRC32 of %s)", got, want, body)
	}
}

// TestSnapshotAroundFront: an item the front refuses (an empty GSI key)
// that a snapshot holds from before still loads, and the app reads it.
// (Items over 400 KB never loaded: the snapshot reader refuses them.)
func TestSnapshotAroundFront(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	const table = "app"
	db, err := openDB(ctx, "", dir, table, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	big := map[string]types.AttributeValue{
		"PK":     &types.AttributeValueMemberS{Value: "big"},
		"SK":     &types.AttributeValueMemberS{Value: "1"},
		"GSI1PK": &types.AttributeValueMemberS{Value: ""},
	}
	app := ddblocal.NewClient(db.endpoint)
	if _, err := app.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: big}); err == nil {
		t.Fatal("the dev endpoint took an item with an empty GSI key")
	}
	// As an older lowfare dev stored it: around the front.
	if _, err := db.snap.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: big}); err != nil {
		t.Fatal(err)
	}
	if err := db.finalSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	db.close()

	db, err = openDB(ctx, "", dir, table, time.Hour, log)
	if err != nil {
		t.Fatalf("reopening with the snapshot: %v", err)
	}
	defer db.close()
	out, err := ddblocal.NewClient(db.endpoint).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"PK": big["PK"], "SK": big["SK"]}})
	if err != nil || out.Item == nil {
		t.Fatalf("the snapshot's item after reopening: %v, %v", out, err)
	}
}
