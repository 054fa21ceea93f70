package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FormatVersion is the version of the export format written in the header.
// An import refuses files of a version it does not know.
const FormatVersion = 1

// maxLineBytes bounds one line: an item is at most 400 KB, and its JSON
// (escapes, base64, type tags) can be a few times that.
const maxLineBytes = 4 << 20

// Header is the first line of an export.
//
//	{"lowfare_export":1,"table":"links","key_schema":[{"name":"PK","type":"S","role":"HASH"},...],"exported_at":"..."}
type Header struct {
	Version    int         `json:"lowfare_export"`
	Table      string      `json:"table"`
	KeySchema  []KeyAttr   `json:"key_schema"`
	ExportedAt time.Time   `json:"exported_at"`
	Segments   int         `json:"segments,omitempty"`
	Indexes    []IndexKeys `json:"indexes,omitempty"`
}

// KeyAttr is one attribute of a key: its name, scalar type (S, N or B)
// and role (HASH or RANGE).
type KeyAttr struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Role string `json:"role"`
}

// IndexKeys is a secondary index and its key attributes, recorded so an
// import can tell which items also write to an index (and cost more).
type IndexKeys struct {
	Name string    `json:"name"`
	Keys []KeyAttr `json:"keys"`
}

// Trailer is the last line of an export: how many items the file holds
// and the SHA-256 of their lines (each with its newline), so an import
// can tell a complete file from a truncated or edited one.
//
//	{"lowfare_export_end":1,"items":1234,"sha256":"..."}
type Trailer struct {
	End    int    `json:"lowfare_export_end"`
	Items  int64  `json:"items"`
	SHA256 string `json:"sha256"`
}

// Items lines are objects whose every value is an object ({"S":...});
// the header and trailer each have a marker key whose value is a number,
// so no item can be mistaken for either.
const (
	headerKey  = "lowfare_export"
	trailerKey = "lowfare_export_end"
)

// LineError is a problem with one line of an export file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrIncomplete means the file ended without a trailer: it was cut short.
var ErrIncomplete = errors.New("the export ends without its trailer line: the file is truncated (was the export interrupted?)")

func (h Header) check() error {
	if h.Version != FormatVersion {
		return fmt.Errorf("export format version %d, this lowfare reads version %d", h.Version, FormatVersion)
	}
	if h.Table == "" {
		return errors.New("header has no table name")
	}
	if len(h.KeySchema) == 0 || len(h.KeySchema) > 2 {
		return fmt.Errorf("header key_schema has %d attributes, want 1 or 2", len(h.KeySchema))
	}
	for _, k := range h.KeySchema {
		// An empty type is unknown: the endpoint did not say (minidyn
		// describes no attribute types) and the table had no item to tell.
		if k.Name == "" || (k.Type != "S" && k.Type != "N" && k.Type != "B" && k.Type != "") || (k.Role != "HASH" && k.Role != "RANGE") {
			return fmt.Errorf("header key_schema entry %+v: want a name, type S, N or B and role HASH or RANGE", k)
		}
	}
	return nil
}

// checkKeys reports an item that lacks a key attribute of the header's
// schema or has it with another type: DynamoDB would refuse the batch.
func checkKeys(item map[string]types.AttributeValue, keys []KeyAttr) error {
	for _, k := range keys {
		v, ok := item[k.Name]
		if !ok {
			return fmt.Errorf("item has no key attribute %s", k.Name)
		}
		if got := typeOf(v); k.Type != "" && got != k.Type {
			return fmt.Errorf("key attribute %s is %s, the table's key schema says %s", k.Name, got, k.Type)
		}
		if t := typeOf(v); t != "S" && t != "N" && t != "B" {
			return fmt.Errorf("key attribute %s is %s; keys are S, N or B", k.Name, t)
		}
		if typeOf(v) != "N" && valueSize(v) == 0 {
			return fmt.Errorf("key attribute %s is empty", k.Name)
		}
	}
	return nil
}

func typeOf(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberL:
		return "L"
	}
	return "?"
}

// reader reads an export line by line: the header first, then items,
// then the trailer, and checks the trailer against what it read.
type reader struct {
	br     *bufio.Reader
	line   int
	header Header
	items  int64
	sum    hash.Hash
	done   bool
}

func newReader(r io.Reader) (*reader, error) {
	rd := &reader{br: bufio.NewReaderSize(r, 64<<10), sum: sha256.New()}
	first, err := rd.next()
	if err == io.EOF {
		return nil, &LineError{Line: 1, Err: errors.New("the file is empty; want an export header")}
	}
	if err != nil {
		return nil, err
	}
	var h Header
	if err := strictUnmarshal(first, &h); err != nil || h.Version == 0 {
		return nil, &LineError{Line: 1, Err: errors.New(`not an export header ({"lowfare_export":1,...}); was this file written by lowfare data export?`)}
	}
	if err := h.check(); err != nil {
		return nil, &LineError{Line: 1, Err: err}
	}
	rd.header = h
	return rd, nil
}

// next returns the next line without its newline, or io.EOF.
func (rd *reader) next() ([]byte, error) {
	var line []byte
	for {
		chunk, err := rd.br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLineBytes {
			return nil, &LineError{Line: rd.line + 1, Err: fmt.Errorf("longer than %d bytes", maxLineBytes)}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading line %d: %w", rd.line+1, err)
		}
		rd.line++
		return line, nil
	}
}

// Item returns the next item and its line number, or io.EOF after the
// trailer was read and matched.
func (rd *reader) Item() (map[string]types.AttributeValue, int, error) {
	for {
		raw, err := rd.next()
		if err == io.EOF {
			if !rd.done {
				return nil, rd.line, ErrIncomplete
			}
			return nil, rd.line, io.EOF
		}
		if err != nil {
			return nil, rd.line, err
		}
		if rd.done {
			return nil, rd.line, &LineError{Line: rd.line, Err: errors.New("text after the trailer line")}
		}
		content := bytes.TrimRight(raw, "\r\n")
		if len(bytes.TrimSpace(content)) == 0 {
			return nil, rd.line, &LineError{Line: rd.line, Err: errors.New("empty line")}
		}
		if isTrailer(content) {
			if err := rd.checkTrailer(content); err != nil {
				return nil, rd.line, &LineError{Line: rd.line, Err: err}
			}
			rd.done = true
			continue
		}
		if !bytes.HasSuffix(raw, []byte("\n")) {
			return nil, rd.line, &LineError{Line: rd.line, Err: errors.New("the last item has no newline: the file is truncated")}
		}
		item, err := ParseItem(content)
		if err != nil {
			return nil, rd.line, &LineError{Line: rd.line, Err: err}
		}
		if err := checkKeys(item, rd.header.KeySchema); err != nil {
			return nil, rd.line, &LineError{Line: rd.line, Err: err}
		}
		rd.sum.Write(raw)
		rd.items++
		return item, rd.line, nil
	}
}

func isTrailer(line []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(line, &probe) != nil {
		return false
	}
	v, ok := probe[trailerKey]
	return ok && len(v) > 0 && v[0] != '{'
}

func (rd *reader) checkTrailer(line []byte) error {
	var t Trailer
	if err := strictUnmarshal(line, &t); err != nil || t.End != 1 {
		return errors.New(`malformed trailer; want {"lowfare_export_end":1,"items":N,"sha256":"..."}`)
	}
	if t.Items != rd.items {
		return fmt.Errorf("the trailer counts %d items, the file holds %d: the file was cut or edited", t.Items, rd.items)
	}
	if got := hex.EncodeToString(rd.sum.Sum(nil)); t.SHA256 != got {
		return errors.New("the items' checksum does not match the trailer's: the file was edited after the export")
	}
	return nil
}

// Summary describes a verified file.
type Summary struct {
	Header Header
	Items  int64
	Bytes  int64 // item sizes as DynamoDB counts them
}

// Verify reads a whole export without any AWS call and checks every line,
// the trailer's count and checksum. Import of a file runs it first, so a
// corrupt or truncated file writes nothing at all.
func Verify(r io.Reader) (Summary, error) {
	rd, err := newReader(r)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Header: rd.header}
	for {
		item, _, err := rd.Item()
		if err == io.EOF {
			sum.Items = rd.items
			return sum, nil
		}
		if err != nil {
			return sum, err
		}
		sum.Bytes += int64(ItemSize(item))
	}
}
