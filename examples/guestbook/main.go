// Command guestbook is a small HTTP service that follows lowfare's app
// contract (docs/apps.md) and nothing else: it listens on $PORT, answers
// GET /health, and keeps its entries in the DynamoDB table named by
// $TABLE_NAME, reached with the AWS SDK's default credential chain. It
// imports nothing from lowfare; any language would do the same.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Entry is one guestbook entry. In the table it is the item
// {PK: "ENTRY#<id>", SK: "ENTRY", name, message, created}: lowfare's table
// has string keys PK and SK (and an index GSI1 on GSI1PK/GSI1SK, unused here).
type Entry struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Created string `json:"created"` // RFC 3339 UTC, fixed width: sorts as text
}

type server struct {
	db    *dynamodb.Client
	table string
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		log.Fatal("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("aws config: %v", err)
	}
	s := &server{db: dynamodb.NewFromConfig(cfg), table: table}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("POST /entries", s.add)
	mux.HandleFunc("GET /entries", s.list)
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("guestbook listening on :%s, table %s", port, table)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// add writes one entry from a JSON body or a form.
func (s *server) add(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	var e Entry
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		e.Name, e.Message = r.FormValue("name"), r.FormValue("message")
	}
	e.Name, e.Message = strings.TrimSpace(e.Name), strings.TrimSpace(e.Message)
	if e.Name == "" || e.Message == "" {
		http.Error(w, "name and message are required", http.StatusBadRequest)
		return
	}
	now := time.Now().UTC()
	e.ID, e.Created = fmt.Sprint(now.UnixNano()), now.Format("2006-01-02T15:04:05.000000000Z")
	item := map[string]types.AttributeValue{
		"PK":      str("ENTRY#" + e.ID),
		"SK":      str("ENTRY"),
		"name":    str(e.Name),
		"message": str(e.Message),
		"created": str(e.Created),
	}
	if _, err := s.db.PutItem(r.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		log.Printf("put: %v", err)
		http.Error(w, "could not save the entry", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(e)
}

// list returns every entry, newest first, read with a Scan (fine for a
// guestbook; a bigger app would Query a key instead).
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	entries := []Entry{}
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.Context())
		if err != nil {
			log.Printf("scan: %v", err)
			http.Error(w, "could not read the entries", http.StatusInternalServerError)
			return
		}
		for _, it := range page.Items {
			if get(it, "SK") == "ENTRY" {
				id := strings.TrimPrefix(get(it, "PK"), "ENTRY#")
				entries = append(entries, Entry{ID: id, Name: get(it, "name"), Message: get(it, "message"), Created: get(it, "created")})
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Created > entries[j].Created })
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(entries)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// get is a string attribute of an item, "" when absent or not a string.
func get(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
