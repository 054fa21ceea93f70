package data

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits that a line is checked against before it is sent, so
// a bad file fails on this machine with its line number instead of in the
// middle of a batch.
const (
	maxDepth    = 32         // nesting of maps and lists
	maxItemSize = 400 * 1024 // bytes, names and values together
	maxNameLen  = 65535      // an attribute name, in bytes
)

// number is DynamoDB's number syntax: an optional sign, digits with an
// optional fraction, an optional exponent. DynamoDB checks the precision
// (38 digits) and range itself; a bad one fails the batch with its message.
var number = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// EncodeItem writes item as one line of DynamoDB JSON (no newline):
// {"PK":{"S":"LINK#a"},"clicks":{"N":"3"}}. Attribute names are sorted
// and set members too, so equal items encode to equal bytes.
func EncodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeMap(&buf, item, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeMap(buf *bytes.Buffer, m map[string]types.AttributeValue, depth int) error {
	if depth > maxDepth {
		return errors.New("nested deeper than 32 levels")
	}
	names := slices.Sorted(maps.Keys(m))
	buf.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSON(buf, k)
		buf.WriteByte(':')
		if err := encodeAV(buf, m[k], depth); err != nil {
			return fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

func encodeAV(buf *bytes.Buffer, v types.AttributeValue, depth int) error {
	tagged := func(tag string, value any) {
		buf.WriteString(`{"` + tag + `":`)
		writeJSON(buf, value)
		buf.WriteByte('}')
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		tagged("S", v.Value)
	case *types.AttributeValueMemberN:
		tagged("N", v.Value)
	case *types.AttributeValueMemberB:
		tagged("B", v.Value) // encoding/json writes []byte as base64, as DynamoDB does
	case *types.AttributeValueMemberBOOL:
		tagged("BOOL", v.Value)
	case *types.AttributeValueMemberNULL:
		tagged("NULL", true)
	case *types.AttributeValueMemberSS:
		tagged("SS", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberNS:
		tagged("NS", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberBS:
		bs := slices.Clone(v.Value)
		slices.SortFunc(bs, bytes.Compare)
		tagged("BS", bs)
	case *types.AttributeValueMemberM:
		buf.WriteString(`{"M":`)
		if err := encodeMap(buf, v.Value, depth+1); err != nil {
			return err
		}
		buf.WriteByte('}')
	case *types.AttributeValueMemberL:
		if depth+1 > maxDepth {
			return errors.New("nested deeper than 32 levels")
		}
		buf.WriteString(`{"L":[`)
		for i, x := range v.Value {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeAV(buf, x, depth+1); err != nil {
				return err
			}
		}
		buf.WriteString(`]}`)
	default:
		return fmt.Errorf("unsupported attribute value %T", v)
	}
	return nil
}

// writeJSON marshals values that cannot fail (strings, bools, slices of
// them) without HTML escaping, so URLs stay readable in an export.
func writeJSON(buf *bytes.Buffer, v any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// ParseItem decodes one line of DynamoDB JSON into an item and checks it
// the way DynamoDB would: every value has exactly one known type, numbers
// are numbers, sets are non-empty without duplicates, nesting is at most
// 32 deep, names are non-empty, and the item is at most 400 KB.
func ParseItem(line []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := strictUnmarshal(line, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object of attributes: %w", err)
	}
	if raw == nil {
		return nil, errors.New("not a JSON object of attributes: null")
	}
	if len(raw) == 0 {
		return nil, errors.New("an item needs at least one attribute")
	}
	item, err := decodeMap(raw, 0)
	if err != nil {
		return nil, err
	}
	if size := ItemSize(item); size > maxItemSize {
		return nil, fmt.Errorf("item is %d bytes, more than DynamoDB's 400 KB", size)
	}
	return item, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("text after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("text after the JSON value")
	}
	return nil
}

func decodeMap(raw map[string]json.RawMessage, depth int) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(raw))
	for name, r := range raw {
		if name == "" {
			return nil, errors.New("empty attribute name")
		}
		if len(name) > maxNameLen {
			return nil, fmt.Errorf("attribute name of %d bytes, more than 65535", len(name))
		}
		v, err := decodeAV(r, depth)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func decodeAV(r json.RawMessage, depth int) (types.AttributeValue, error) {
	if depth > maxDepth {
		return nil, errors.New("nested deeper than 32 levels")
	}
	var tagged map[string]json.RawMessage
	if err := json.Unmarshal(r, &tagged); err != nil || tagged == nil {
		return nil, fmt.Errorf(`value %s is not a typed attribute value like {"S":"text"}`, clip(r))
	}
	if len(tagged) != 1 {
		return nil, fmt.Errorf("a value needs exactly one type (S, N, B, BOOL, NULL, SS, NS, BS, M, L), has %d", len(tagged))
	}
	var v types.AttributeValue
	var err error
	for tag, body := range tagged { // exactly one
		if v, err = decodeTagged(tag, body, depth); err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
	}
	return v, nil
}

// decodeTagged decodes the body of a value whose one type tag is tag.
func decodeTagged(tag string, body json.RawMessage, depth int) (types.AttributeValue, error) {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, errors.New("null")
	}
	switch tag {
	case "S", "N", "B", "BOOL", "NULL":
		return decodeScalar(tag, body)
	case "SS", "NS":
		return decodeStringSet(tag, body)
	case "BS":
		return decodeBinarySet(body)
	case "M":
		return decodeMapValue(body, depth)
	case "L":
		return decodeList(body, depth)
	}
	return nil, errors.New("unknown type (use S, N, B, BOOL, NULL, SS, NS, BS, M or L)")
}

// decodeScalar decodes the types that hold one value: S, N, B, BOOL and NULL.
func decodeScalar(tag string, body json.RawMessage) (types.AttributeValue, error) {
	switch tag {
	case "S":
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, errors.New("not a string")
		}
		return &types.AttributeValueMemberS{Value: s}, nil
	case "N":
		var s string
		if err := json.Unmarshal(body, &s); err != nil || !number.MatchString(s) {
			return nil, fmt.Errorf("%s is not a number in a string, like \"42\"", clip(body))
		}
		return &types.AttributeValueMemberN{Value: s}, nil
	case "B":
		b, err := decodeBinary(body)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case "BOOL":
		var b bool
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, errors.New("not true or false")
		}
		return &types.AttributeValueMemberBOOL{Value: b}, nil
	default: // NULL
		var b bool
		if err := json.Unmarshal(body, &b); err != nil || !b {
			return nil, errors.New("must be true")
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
}

// decodeStringSet decodes an SS or NS body: a non-empty list of distinct strings,
// each a number for NS.
func decodeStringSet(tag string, body json.RawMessage) (types.AttributeValue, error) {
	var ss []string
	if err := json.Unmarshal(body, &ss); err != nil {
		return nil, errors.New("not a list of strings")
	}
	if err := checkSet(ss); err != nil {
		return nil, err
	}
	if tag == "SS" {
		return &types.AttributeValueMemberSS{Value: ss}, nil
	}
	for _, n := range ss {
		if !number.MatchString(n) {
			return nil, fmt.Errorf("%q is not a number", n)
		}
	}
	return &types.AttributeValueMemberNS{Value: ss}, nil
}

// decodeBinarySet decodes a BS body: a non-empty list of distinct base64 strings.
func decodeBinarySet(body json.RawMessage) (types.AttributeValue, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, errors.New("not a list of base64 strings")
	}
	bs := make([][]byte, 0, len(raws))
	seen := make([]string, 0, len(raws))
	for _, r := range raws {
		b, err := decodeBinary(r)
		if err != nil {
			return nil, err
		}
		bs = append(bs, b)
		seen = append(seen, string(b))
	}
	if err := checkSet(seen); err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberBS{Value: bs}, nil
}

// decodeMapValue decodes an M body, whose values sit one level deeper.
func decodeMapValue(body json.RawMessage, depth int) (types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errors.New("not an object")
	}
	m := make(map[string]types.AttributeValue, len(raw))
	for k, r := range raw {
		v, err := decodeAV(r, depth+1)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		m[k] = v
	}
	return &types.AttributeValueMemberM{Value: m}, nil
}

// decodeList decodes an L body, whose elements sit one level deeper.
func decodeList(body json.RawMessage, depth int) (types.AttributeValue, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, errors.New("not a list")
	}
	l := make([]types.AttributeValue, 0, len(raws))
	for i, r := range raws {
		v, err := decodeAV(r, depth+1)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		l = append(l, v)
	}
	return &types.AttributeValueMemberL{Value: l}, nil
}

func decodeBinary(r json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return nil, errors.New("binary values are base64 strings")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return b, nil
}

func checkSet(members []string) error {
	if len(members) == 0 {
		return errors.New("a set cannot be empty")
	}
	sorted := slices.Sorted(slices.Values(members))
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return fmt.Errorf("a set cannot hold %q twice", sorted[i])
		}
	}
	return nil
}

// clip shortens raw JSON for an error message.
func clip(r []byte) string {
	const limit = 40
	if len(r) > limit {
		return string(r[:limit]) + "..."
	}
	return string(r)
}

// ItemSize is DynamoDB's size of an item in bytes, which its capacity
// units are computed from: attribute names plus values (strings and
// binaries by length, numbers about one byte per two digits plus one,
// 1 byte for BOOL and NULL, 3 bytes of overhead per map and list plus
// one per element).
func ItemSize(item map[string]types.AttributeValue) int {
	size := 0
	for k, v := range item {
		size += len(k) + valueSize(v)
	}
	return size
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, x := range v.Value {
			n += len(k) + valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += valueSize(x) + 1
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
