// Command plainlinks is the benchmark baseline: the links handler over a
// store whose redirect path is the plain implementation, one GetItem to
// resolve the slug and two UpdateItem ADDs (total and day bucket) per
// click, synchronously, with no cache and no batching. Everything else is
// the real store. bench/linksbench runs it next to cmd/links so the two
// numbers come from the same machine in the same minute.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/links"
	"github.com/lowfare/lowfare/internal/links/store"
)

// plainStore overrides Resolve and RecordClick of the real store with the
// naive calls. The key layout is the store's (see internal/links/store).
type plainStore struct {
	*store.Store
	ddb   *dynamodb.Client
	table string
	log   *slog.Logger
}

func (p *plainStore) Resolve(ctx context.Context, slug string) (string, error) {
	out, err := p.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &p.table,
		Key:       key("LINK#"+slug, "META"),
	})
	if err != nil {
		return "", err
	}
	u, ok := out.Item["url"].(*types.AttributeValueMemberS)
	if !ok {
		return "", store.ErrNotFound
	}
	return u.Value, nil
}

func (p *plainStore) RecordClick(slug string, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	day := at.UTC().Format("2006-01-02")
	for _, sk := range []string{"TOTAL", "DAY#" + day} {
		_, err := p.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &p.table,
			Key:                       key("LINK#"+slug, sk),
			UpdateExpression:          aws.String("ADD clicks :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		})
		if err != nil {
			p.log.Error("counting click", "error", err.Error())
		}
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	endpoint, table, port := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("TABLE_NAME"), os.Getenv("PORT")
	if endpoint == "" || table == "" || port == "" {
		fmt.Fprintln(os.Stderr, "plainlinks: set AWS_ENDPOINT_URL_DYNAMODB, TABLE_NAME and PORT")
		os.Exit(2)
	}
	if _, err := strconv.Atoi(port); err != nil {
		fmt.Fprintln(os.Stderr, "plainlinks: PORT is not a number")
		os.Exit(2)
	}
	// The client is configured as cmd/links configures its own against a
	// local endpoint, so the comparison measures the redirect path only:
	// it owns its request bodies (awsconf.OwnBodies, without which a call
	// can fail on a 200) and skips the CRC32 check cmd/links skips.
	ddb := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient: awsconf.OwnBodies(&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		}}),
		DisableValidateResponseChecksum: true,
	})
	real := store.New(ddb, table, store.Options{Logger: log})
	st := &plainStore{Store: real, ddb: ddb, table: table, log: log}
	srv := links.NewServer(links.NewHandler(st, links.Config{TableName: table, CreateRate: -1}, log), log)
	srv.Addr = "127.0.0.1:" + port

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("listening", "addr", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Error("serving", "error", err.Error())
		os.Exit(1)
	}
	real.Close(context.Background())
}
