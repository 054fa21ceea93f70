package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/data"
)

// The snapshot is one JSON file: for each table its schema (what
// CreateTable needs) and its items in DynamoDB's own JSON form
// ({"S":"..."}, {"N":"1"}, ...), written and checked by internal/data's
// codec (the one lowfare data export uses), sorted by key so that an
// unchanged table gives byte-identical output. It is read and written only through
// the DynamoDB API, so it does not depend on minidyn's internals.

const snapshotVersion = 1

type snapshot struct {
	Version int             `json:"version"`
	Tables  []snapshotTable `json:"tables"`
}

type snapshotTable struct {
	Name   string            `json:"name"`
	Schema tableSchema       `json:"schema"`
	Items  []json.RawMessage `json:"items"` // each one item in DynamoDB JSON

}

// tableSchema is the part of CreateTableInput a snapshot keeps.
type tableSchema struct {
	Attributes map[string]string `json:"attributes"` // name -> S | N | B
	Hash       string            `json:"hash"`
	Range      string            `json:"range,omitempty"`
	GSIs       []gsiSchema       `json:"gsis,omitempty"`
}

type gsiSchema struct {
	Name  string `json:"name"`
	Hash  string `json:"hash"`
	Range string `json:"range,omitempty"`
}

// schemaOf extracts the schema of a CreateTable request. Only projection
// ALL is kept, which is what the links table uses.
func schemaOf(in *dynamodb.CreateTableInput) tableSchema {
	s := tableSchema{Attributes: map[string]string{}}
	for _, a := range in.AttributeDefinitions {
		s.Attributes[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	s.Hash, s.Range = keyNames(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		h, r := keyNames(g.KeySchema)
		s.GSIs = append(s.GSIs, gsiSchema{Name: aws.ToString(g.IndexName), Hash: h, Range: r})
	}
	return s
}

func keyNames(ks []types.KeySchemaElement) (hash, rng string) {
	for _, k := range ks {
		if k.KeyType == types.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		} else {
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash, rng
}

// createInput turns a snapshot schema back into a CreateTable request.
func (s tableSchema) createInput(name string) (*dynamodb.CreateTableInput, error) {
	if s.Hash == "" {
		return nil, fmt.Errorf("table %s has no hash key", name)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	names := make([]string, 0, len(s.Attributes))
	for a := range s.Attributes {
		names = append(names, a)
	}
	slices.Sort(names)
	for _, a := range names {
		t := types.ScalarAttributeType(s.Attributes[a])
		switch t {
		case types.ScalarAttributeTypeS, types.ScalarAttributeTypeN, types.ScalarAttributeTypeB:
		default:
			return nil, fmt.Errorf("table %s: attribute %s has type %q, want S, N or B", name, a, t)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: t})
	}
	in.KeySchema = keySchema(s.Hash, s.Range)
	for _, g := range s.GSIs {
		if g.Name == "" || g.Hash == "" {
			return nil, fmt.Errorf("table %s: an index lacks its name or hash key", name)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.Name),
			KeySchema:  keySchema(g.Hash, g.Range),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return in, nil
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return ks
}

// dumpTable scans a whole table into a snapshotTable.
func dumpTable(ctx context.Context, ddb *dynamodb.Client, name string, schema tableSchema) (snapshotTable, error) {
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(name), ConsistentRead: aws.Bool(true)}
	for {
		out, err := ddb.Scan(ctx, in)
		if err != nil {
			return snapshotTable{}, fmt.Errorf("scanning table %s: %w", name, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortFunc(items, func(a, b map[string]types.AttributeValue) int {
		if c := strings.Compare(sortKey(a[schema.Hash]), sortKey(b[schema.Hash])); c != 0 {
			return c
		}
		return strings.Compare(sortKey(a[schema.Range]), sortKey(b[schema.Range]))
	})
	t := snapshotTable{Name: name, Schema: schema, Items: make([]json.RawMessage, 0, len(items))}
	for _, item := range items {
		line, err := data.EncodeItem(item)
		if err != nil {
			return snapshotTable{}, fmt.Errorf("table %s: %w", name, err)
		}
		t.Items = append(t.Items, line)
	}
	return t, nil
}

// sortKey orders items in a snapshot by a key attribute (S, N or B).
func sortKey(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return string(v.Value)
	}
	return ""
}

// restoreTable creates a table from a snapshot (unless it exists) and
// writes its items, 25 per BatchWriteItem.
func restoreTable(ctx context.Context, ddb *dynamodb.Client, t snapshotTable) error {
	in, err := t.Schema.createInput(t.Name)
	if err != nil {
		return err
	}
	if _, err := ddb.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("creating table %s: %w", t.Name, err)
		}
	}
	for start := 0; start < len(t.Items); start += 25 {
		end := min(start+25, len(t.Items))
		reqs := make([]types.WriteRequest, 0, end-start)
		for i, m := range t.Items[start:end] {
			item, err := data.ParseItem(m)
			if err != nil {
				return fmt.Errorf("table %s item %d: %w", t.Name, start+i, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		pending := map[string][]types.WriteRequest{t.Name: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 10 {
				return fmt.Errorf("table %s: items left unprocessed after %d attempts", t.Name, attempt)
			}
			out, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("restoring items of table %s: %w", t.Name, err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// parseSnapshot decodes and checks a snapshot file's bytes.
func parseSnapshot(b []byte) (*snapshot, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Version != snapshotVersion {
		return nil, fmt.Errorf("version %d, this lowfare reads version %d", s.Version, snapshotVersion)
	}
	seen := map[string]bool{}
	for _, t := range s.Tables {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("table name %q is empty or repeated", t.Name)
		}
		seen[t.Name] = true
		if _, err := t.Schema.createInput(t.Name); err != nil {
			return nil, err
		}
		for i, m := range t.Items {
			item, err := data.ParseItem(m)
			if err != nil {
				return nil, fmt.Errorf("table %s item %d: %w", t.Name, i, err)
			}
			if _, ok := item[t.Schema.Hash]; !ok {
				return nil, fmt.Errorf("table %s item %d lacks its key %s", t.Name, i, t.Schema.Hash)
			}
		}
	}
	return &s, nil
}

// readSnapshot loads path; a missing file is an empty snapshot.
func readSnapshot(path string) (*snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &snapshot{Version: snapshotVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := parseSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s is unreadable: %w (move it away to start with empty data)", path, err)
	}
	return s, nil
}

// encodeSnapshot writes one item per line: readable, and a diff of two
// snapshots shows the items that changed.
func encodeSnapshot(s *snapshot) ([]byte, [32]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\": %d, \"tables\": [", s.Version)
	for i, t := range s.Tables {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, [32]byte{}, err
		}
		schema, err := json.Marshal(t.Schema)
		if err != nil {
			return nil, [32]byte{}, err
		}
		fmt.Fprintf(&b, "\n {\"name\": %s,\n  \"schema\": %s,\n  \"items\": [", name, schema)
		for j, item := range t.Items {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n   ")
			// Compact, not Marshal: Marshal would escape & < > in URLs.
			if err := json.Compact(&b, item); err != nil {
				return nil, [32]byte{}, err
			}
		}
		b.WriteString("\n  ]}")
	}
	b.WriteString("\n]}\n")
	return b.Bytes(), sha256.Sum256(b.Bytes()), nil
}

// snapshotter keeps the snapshot file in step with the tables it knows.
type snapshotter struct {
	ddb    *dynamodb.Client
	path   string
	tables map[string]tableSchema // name -> schema
	log    *slog.Logger

	mu       sync.Mutex // one save at a time
	lastHash [32]byte
}

// load restores the snapshot file, if there is one.
func (s *snapshotter) load(ctx context.Context) error {
	snap, err := readSnapshot(s.path)
	if err != nil {
		return err
	}
	for _, t := range snap.Tables {
		if err := restoreTable(ctx, s.ddb, t); err != nil {
			return fmt.Errorf("loading snapshot %s: %w", s.path, err)
		}
		s.tables[t.Name] = t.Schema
	}
	if len(snap.Tables) > 0 {
		// What was loaded is what is on disk: no need to write it back.
		_, s.lastHash, err = s.encode(ctx)
	}
	return err
}

func (s *snapshotter) encode(ctx context.Context) ([]byte, [32]byte, error) {
	snap := &snapshot{Version: snapshotVersion}
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		t, err := dumpTable(ctx, s.ddb, name, s.tables[name])
		if err != nil {
			return nil, [32]byte{}, err
		}
		snap.Tables = append(snap.Tables, t)
	}
	return encodeSnapshot(snap)
}

// save writes the snapshot when the data changed since the last write.
func (s *snapshotter) save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, sum, err := s.encode(ctx)
	if err != nil {
		return err
	}
	if sum == s.lastHash {
		return nil
	}
	if err := atomicfile.WriteFile(s.path, data, 0o600); err != nil {
		return fmt.Errorf("writing snapshot %s: %w", s.path, err)
	}
	s.lastHash = sum
	return nil
}

func (s *snapshotter) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.save(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("snapshot failed; will retry", "path", s.path, "err", err)
			}
		}
	}
}
