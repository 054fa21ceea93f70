package ddbfront_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"
	miniserver "github.com/truora/minidyn/server"

	"github.com/lowfare/lowfare/internal/ddbfront"
)

// logBuffer collects what the SDK logs.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Logf(c logging.Classification, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(c)+" "+fmt.Sprintf(format, v...))
}

// sdkClient is a client as a user's app builds it: the SDK's response
// checksum check on (ddblocal.NewClient turns it off).
func sdkClient(endpoint string, log logging.Logger) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		Logger:       log,
	})
}

func startFront(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ddbfront.Handler(miniserver.NewServer()))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCRC32Header(t *testing.T) {
	for _, tc := range []struct {
		name     string
		handler  http.Handler
		wantWarn bool
	}{
		// minidyn alone: what every app saw in dev, a warning per call.
		{"minidyn alone", miniserver.NewServer(), true},
		{"front", ddbfront.Handler(miniserver.NewServer()), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			log := &logBuffer{}
			c := sdkClient(srv.URL, log)
			ctx := context.Background()
			if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String("t"),
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
				BillingMode:          types.BillingModePayPerRequest,
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "a"},
			}}); err != nil {
				t.Fatal(err)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			warned := strings.Contains(strings.Join(log.lines, "\n"), "checksum")
			if warned != tc.wantWarn {
				t.Errorf("SDK checksum warning: got %v, want %v; log:\n%s", warned, tc.wantWarn, strings.Join(log.lines, "\n"))
			}
		})
	}
}

// TestCRC32Value checks the header against the body as received, for an
// answer and for an error.
func TestCRC32Value(t *testing.T) {
	u := startFront(t)
	for _, body := range []string{`{}`, `{"TableName":"missing","Key":{"PK":{"S":"a"}}}`} {
		for _, target := range []string{"DynamoDB_20120810.ListTables", "DynamoDB_20120810.GetItem"} {
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			req.Header.Set("X-Amz-Target", target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(got)), 10)
			if h := resp.Header.Get("X-Amz-Crc32"); h != want {
				t.Errorf("%s %s: X-Amz-Crc32 %q, want %q (status %d, body %s)", target, body, h, want, resp.StatusCode, got)
			}
		}
	}
}
