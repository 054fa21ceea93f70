// Command server is pinboard, a test app written the way a Go developer
// writes one, not the way links is: its main package in cmd/server,
// its page an html/template embedded in the binary, an API key from the
// environment (service.secrets) guarding writes, each pin written together
// with the board's counter in one DynamoDB transaction, and the board
// listed newest first through GSI1. It follows docs/apps.md and nothing
// else: PORT, TABLE_NAME, the AWS SDK's default chain, secrets from the
// environment.
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

//go:embed templates/*.html
var templates embed.FS

var page = template.Must(template.ParseFS(templates, "templates/index.html"))

// The items: a pin is PK PIN#<id>, SK PIN, in GSI1 under BOARD with a
// sortable time; the board's counter is PK BOARD, SK COUNT.
const (
	boardKey   = "BOARD"
	sortedTime = "2006-01-02T15:04:05.000000000Z"
)

type pin struct {
	ID      string    `json:"id"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

type server struct {
	db     *dynamodb.Client
	table  string
	apiKey string
}

func main() {
	table, apiKey := os.Getenv("TABLE_NAME"), os.Getenv("API_KEY")
	if table == "" || apiKey == "" {
		log.Fatal("pinboard: TABLE_NAME and API_KEY must be set (API_KEY is a secret: lowfare secrets set API_KEY)")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s := &server{db: dynamodb.NewFromConfig(cfg), table: table, apiKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /pins", s.list)
	mux.HandleFunc("POST /pins", s.create)
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Printf("pinboard listening on :%s, table %s", port, table)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func (s *server) create(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != s.apiKey {
		http.Error(w, "a valid X-Api-Key is required", http.StatusUnauthorized)
		return
	}
	var in struct{ Text string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Text == "" || !utf8.ValidString(in.Text) {
		http.Error(w, `send {"text": "..."}`, http.StatusBadRequest)
		return
	}
	var b [4]byte
	rand.Read(b[:])
	now := time.Now().UTC()
	p := pin{ID: strconv.FormatInt(now.UnixNano(), 36) + hex.EncodeToString(b[:]), Text: in.Text, Created: now}
	// The pin and the counter change together or not at all.
	_, err := s.db.TransactWriteItems(r.Context(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: aws.String(s.table),
				Item: map[string]types.AttributeValue{
					"PK": str("PIN#" + p.ID), "SK": str("PIN"),
					"GSI1PK": str(boardKey), "GSI1SK": str(now.Format(sortedTime) + "#" + p.ID),
					"text": str(p.Text), "created": str(now.Format(time.RFC3339Nano)),
				},
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}},
			{Update: &types.Update{
				TableName:                 aws.String(s.table),
				Key:                       map[string]types.AttributeValue{"PK": str(boardKey), "SK": str("COUNT")},
				UpdateExpression:          aws.String("ADD pins :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
			}},
		},
	})
	if err != nil {
		log.Printf("creating a pin: %v", err)
		http.Error(w, "could not save the pin", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(p)
}

// pins lists the board newest first, from GSI1.
func (s *server) pins(ctx context.Context) ([]pin, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": str(boardKey)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(50),
	})
	if err != nil {
		return nil, err
	}
	list := make([]pin, 0, len(out.Items))
	for _, it := range out.Items {
		created, _ := time.Parse(time.RFC3339Nano, text(it["created"]))
		list = append(list, pin{ID: strings.TrimPrefix(text(it["PK"]), "PIN#"), Text: text(it["text"]), Created: created})
	}
	return list, nil
}

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	list, err := s.pins(r.Context())
	if err != nil {
		log.Printf("listing pins: %v", err)
		http.Error(w, "could not list the pins", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	list, err := s.pins(r.Context())
	if err != nil {
		log.Printf("listing pins: %v", err)
		http.Error(w, "could not list the pins", http.StatusInternalServerError)
		return
	}
	count, err := s.db.GetItem(r.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{"PK": str(boardKey), "SK": str("COUNT")},
	})
	if err != nil {
		log.Printf("reading the count: %v", err)
		http.Error(w, "could not read the board", http.StatusInternalServerError)
		return
	}
	n := "0"
	if v, ok := count.Item["pins"].(*types.AttributeValueMemberN); ok {
		n = v.Value
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, map[string]any{"Pins": list, "Count": n}); err != nil {
		log.Printf("rendering: %v", err)
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func text(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
