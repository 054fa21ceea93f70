package data

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// everyType is an item with every attribute type and the strings an
// encoder can get wrong (HTML, quotes, unicode, control characters).
func everyType() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK":    &types.AttributeValueMemberS{Value: "ODD#1"},
		"SK":    &types.AttributeValueMemberS{Value: "x"},
		"s":     &types.AttributeValueMemberS{Value: "<a href=\"x?a=1&b=2\">é ☃ \t\n\u0001</a>"},
		"n":     &types.AttributeValueMemberN{Value: "-12.5e3"},
		"b":     &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"t":     &types.AttributeValueMemberBOOL{Value: true},
		"f":     &types.AttributeValueMemberBOOL{Value: false},
		"null":  &types.AttributeValueMemberNULL{Value: true},
		"ss":    &types.AttributeValueMemberSS{Value: []string{"b", "a"}},
		"ns":    &types.AttributeValueMemberNS{Value: []string{"3", "1.5"}},
		"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{9}, {1, 2}}},
		"empty": &types.AttributeValueMemberS{Value: ""},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberN{Value: "1"},
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
				&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			}},
		}},
	}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	item := everyType()
	line, err := EncodeItem(item)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(line, "\n") {
		t.Fatalf("encoded item spans lines: %s", line)
	}
	if !bytes.Contains(line, []byte(`<a href=\"x?a=1&b=2\">`)) {
		t.Errorf("HTML is escaped, want it readable: %s", line)
	}
	back, err := ParseItem(line)
	if err != nil {
		t.Fatalf("ParseItem(%s): %v", line, err)
	}
	again, err := EncodeItem(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(line, again) {
		t.Fatalf("round trip changed the item:\n%s\n%s", line, again)
	}
	want := `{"PK":{"S":"ODD#1"},"SK":{"S":"x"},"b":{"B":"AAEC/w=="},"bs":{"BS":["AQI=","CQ=="]},"empty":{"S":""},"f":{"BOOL":false},` +
		`"m":{"M":{"inner":{"L":[{"N":"1"},{"M":{}},{"L":[]}]}}},"n":{"N":"-12.5e3"},"ns":{"NS":["1.5","3"]},"null":{"NULL":true},` +
		`"s":{"S":"<a href=\"x?a=1&b=2\">é ☃ \t\n\u0001</a>"},"ss":{"SS":["a","b"]},"t":{"BOOL":true}}`
	if string(line) != want {
		t.Errorf("encoding:\n got %s\nwant %s", line, want)
	}
}

func TestParseItemRejects(t *testing.T) {
	deep := `{"a":` + strings.Repeat(`{"L":[`, 40) + `{"S":"x"}` + strings.Repeat(`]}`, 40) + `}`
	big := `{"PK":{"S":"` + strings.Repeat("x", 410*1024) + `"}}`
	tests := []struct {
		name, line, want string
	}{
		{"not json", `{"PK":`, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"null", `null`, "null"},
		{"empty object", `{}`, "at least one attribute"},
		{"trailing text", `{"PK":{"S":"a"}} x`, "text after"},
		{"untyped value", `{"PK":"a"}`, "typed attribute value"},
		{"two types", `{"PK":{"S":"a","N":"1"}}`, "exactly one type"},
		{"no type", `{"PK":{}}`, "exactly one type"},
		{"unknown type", `{"PK":{"X":"a"}}`, "unknown type"},
		{"null value", `{"PK":{"S":null}}`, "null"},
		{"number not string", `{"n":{"N":1}}`, "not a number"},
		{"bad number", `{"n":{"N":"1e"}}`, "not a number"},
		{"empty number", `{"n":{"N":""}}`, "not a number"},
		{"bad base64", `{"b":{"B":"***"}}`, "not base64"},
		{"NULL false", `{"x":{"NULL":false}}`, "must be true"},
		{"empty set", `{"x":{"SS":[]}}`, "cannot be empty"},
		{"duplicate set member", `{"x":{"SS":["a","a"]}}`, "twice"},
		{"bad NS member", `{"x":{"NS":["1","z"]}}`, "not a number"},
		{"duplicate BS member", `{"x":{"BS":["AQ==","AQ=="]}}`, "twice"},
		{"empty name", `{"":{"S":"a"}}`, "empty attribute name"},
		{"bad map member", `{"m":{"M":{"k":{"N":"x"}}}}`, `key "k"`},
		{"bad list element", `{"l":{"L":[{"S":"a"},{"Q":1}]}}`, "element 1"},
		{"too deep", deep, "deeper than 32"},
		{"too big", big, "400 KB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseItem([]byte(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseItem: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		item map[string]types.AttributeValue
		want int
	}{
		{map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "LINK#a"}}, 2 + 6},
		{map[string]types.AttributeValue{"clicks": &types.AttributeValueMemberN{Value: "1042"}}, 6 + 3},
		{map[string]types.AttributeValue{"ok": &types.AttributeValueMemberBOOL{Value: true}}, 2 + 1},
		{map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberS{Value: "vv"}}}}, 1 + 3 + 1 + 2 + 1},
	}
	for _, tt := range tests {
		if got := ItemSize(tt.item); got != tt.want {
			t.Errorf("ItemSize(%v) = %d, want %d", tt.item, got, tt.want)
		}
	}
}

// FuzzParseItem: no line makes the parser panic, and what it accepts
// encodes and parses back to the same bytes.
func FuzzParseItem(f *testing.F) {
	line, _ := EncodeItem(everyType())
	f.Add(line)
	for _, s := range []string{
		`{"PK":{"S":"LINK#a"},"SK":{"S":"META"}}`,
		`{"n":{"N":"1e5"},"l":{"L":[{"NULL":true}]}}`,
		`{"b":{"BS":["AQ==","Ag=="]}}`,
		`{"x":{"S":"a","N":"1"}}`,
		`{"lowfare_export_end":1,"items":0,"sha256":""}`,
		`{"m":{"M":{"a":{"M":{"b":{"SS":["x"]}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		item, err := ParseItem(data)
		if err != nil {
			return
		}
		enc, err := EncodeItem(item)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", data, err)
		}
		back, err := ParseItem(enc)
		if err != nil {
			t.Fatalf("accepted %q, its encoding %q does not parse: %v", data, enc, err)
		}
		enc2, _ := EncodeItem(back)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// BenchmarkParseItemHostile parses a line near the size limit built to be
// slow: lists nested to the depth limit, each level re-read once.
func BenchmarkParseItemHostile(b *testing.B) {
	inner := `{"L":[` + strings.Repeat(`{"N":"1"},`, 1000) + `{"N":"1"}]}`
	nested := strings.Repeat(`{"L":[`, 31) + inner + strings.Repeat(`]}`, 31)
	line := []byte(`{"PK":{"S":"x"},"a":` + nested + `,"b":{"S":"` + strings.Repeat("y", 300*1024) + `"}}`)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseItem(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseItemLink parses a typical links META line, the bulk of an import.
func BenchmarkParseItemLink(b *testing.B) {
	line := []byte(`{"GSI1PK":{"S":"LINKS"},"GSI1SK":{"S":"2026-11-25T19:57:23.123456789Z#docs"},"PK":{"S":"LINK#docs"},"SK":{"S":"META"},"created_at":{"S":"2026-11-25T19:57:23.123456789Z"},"slug":{"S":"docs"},"type":{"S":"link"},"url":{"S":"https://example.com/docs"}}`)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseItem(line); err != nil {
			b.Fatal(err)
		}
	}
}
