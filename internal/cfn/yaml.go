package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// YAML is the template as YAML, with the same key order as JSON (format
// version and sections first, then sorted keys) and the intrinsics in their
// long form ({"Ref": ...}, {"Fn::GetAtt": [...]}), which every CloudFormation
// reader accepts.
func (t *Template) YAML() ([]byte, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := ordered(dec)
	if err != nil {
		return nil, fmt.Errorf("cfn: re-reading the template: %w", err)
	}
	return yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
}

// ordered reads one JSON value keeping object key order (yaml.MapSlice).
func ordered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			m := yaml.MapSlice{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				val, err := ordered(dec)
				if err != nil {
					return nil, err
				}
				m = append(m, yaml.MapItem{Key: key, Value: val})
			}
			_, err := dec.Token() // '}'
			return m, err
		case '[':
			list := []any{}
			for dec.More() {
				val, err := ordered(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, val)
			}
			_, err := dec.Token() // ']'
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", tok)
	case json.Number:
		if i, err := tok.Int64(); err == nil {
			return i, nil
		}
		return tok.Float64()
	case nil:
		return nil, nil
	case string:
		if looksNumeric(tok) {
			return quoted(tok), nil
		}
		return tok, nil
	default:
		return tok, nil // bool
	}
}

// quoted is a string that must be written in double quotes: YAML readers
// differ on which plain scalars are numbers (CloudFormation's parser reads
// 1e3 as a float; YAML 1.2 libraries may write it bare).
type quoted string

// MarshalYAML writes the string JSON-quoted, which is a valid YAML
// double-quoted scalar.
func (q quoted) MarshalYAML() ([]byte, error) { return json.Marshal(string(q)) }

// looksNumeric reports whether some YAML reader could take s for a number.
func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	if _, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
		return true
	}
	_, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	return err == nil
}

// Format is an output format of a template.
type Format string

// The formats Write knows.
const (
	FormatJSON Format = "json"
	FormatYAML Format = "yaml"
)

// Write writes the template in the format.
func (t *Template) Write(w io.Writer, f Format) error {
	var data []byte
	var err error
	switch f {
	case FormatJSON:
		data, err = t.JSON()
	case FormatYAML:
		data, err = t.YAML()
	default:
		return fmt.Errorf("cfn: unknown format %q (json or yaml)", f)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
