package devstack

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/links/store"
)

func sampleItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK":    &types.AttributeValueMemberS{Value: "LINK#a"},
		"SK":    &types.AttributeValueMemberS{Value: "META"},
		"n":     &types.AttributeValueMemberN{Value: "-12.5"},
		"b":     &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"t":     &types.AttributeValueMemberBOOL{Value: false},
		"null":  &types.AttributeValueMemberNULL{Value: true},
		"ss":    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":    &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberS{Value: "x"},
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			}},
		}},
	}
}

func TestItemRoundTrip(t *testing.T) {
	item := sampleItem()
	enc, err := data.EncodeItem(item)
	if err != nil {
		t.Fatal(err)
	}
	snap := &snapshot{Version: snapshotVersion, Tables: []snapshotTable{{
		Name: "links", Schema: schemaOf(store.TableInput("links")), Items: []json.RawMessage{enc},
	}}}
	out, _, err := encodeSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseSnapshot(out)
	if err != nil {
		t.Fatalf("parse of our own output: %v\n%s", err, out)
	}
	got, err := data.ParseItem(back.Tables[0].Items[0])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, item) {
		t.Errorf("round trip changed the item:\n got %#v\nwant %#v", got, item)
	}
	in, err := back.Tables[0].Schema.createInput("links")
	if err != nil {
		t.Fatal(err)
	}
	want := store.TableInput("links")
	if !reflect.DeepEqual(in.KeySchema, want.KeySchema) || !reflect.DeepEqual(in.GlobalSecondaryIndexes, want.GlobalSecondaryIndexes) {
		t.Errorf("schema round trip: got %+v %+v", in.KeySchema, in.GlobalSecondaryIndexes)
	}
}

func TestParseSnapshotRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        `{`,
		"wrong version":   `{"version":2,"tables":[]}`,
		"no hash key":     `{"version":1,"tables":[{"name":"x","schema":{"attributes":{}},"items":[]}]}`,
		"bad attr type":   `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"Z"},"hash":"PK"},"items":[]}]}`,
		"two types":       `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"PK":{"S":"a","N":"1"}}]}]}`,
		"no type":         `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"PK":{}}]}]}`,
		"missing key":     `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"a":{"S":"a"}}]}]}`,
		"null value":      `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"PK":null}]}]}`,
		"NULL false":      `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"PK":{"S":"a"},"z":{"NULL":false}}]}]}`,
		"repeated table":  `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"}},{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"}}]}`,
		"index sans hash": `{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK","gsis":[{"name":"g"}]}}]}`,
	} {
		if _, err := parseSnapshot([]byte(in)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two"} {
		if err := atomicfile.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

// FuzzParseSnapshot: no input panics, and whatever parses survives a
// decode/encode/parse round trip unchanged.
func FuzzParseSnapshot(f *testing.F) {
	enc, _ := data.EncodeItem(sampleItem())
	seed, _, _ := encodeSnapshot(&snapshot{Version: 1, Tables: []snapshotTable{{
		Name: "links", Schema: schemaOf(store.TableInput("links")), Items: []json.RawMessage{enc},
	}}})
	f.Add(seed)
	f.Add([]byte(`{"version":1,"tables":[]}`))
	f.Add([]byte(`{"version":1,"tables":[{"name":"x","schema":{"attributes":{"PK":"S"},"hash":"PK"},"items":[{"PK":{"L":[{"M":{}}]}}]}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := parseSnapshot(in)
		if err != nil {
			return
		}
		for ti := range s.Tables {
			for i, m := range s.Tables[ti].Items {
				item, err := data.ParseItem(m)
				if err != nil {
					t.Fatalf("parsed item does not decode: %v", err)
				}
				if s.Tables[ti].Items[i], err = data.EncodeItem(item); err != nil {
					t.Fatalf("decoded item does not encode: %v", err)
				}
			}
		}
		once, _, err := encodeSnapshot(s)
		if err != nil {
			t.Fatalf("parsed snapshot does not encode: %v", err)
		}
		s2, err := parseSnapshot(once)
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%s", err, once)
		}
		twice, _, _ := encodeSnapshot(s2)
		if !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, twice)
		}
	})
}
