package cfndiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// marks are the one-character signs of the text output, as cdk diff has them.
var marks = map[Kind]string{Add: "[+]", Remove: "[-]", Replace: "[!]", InPlace: "[~]"}

// WriteText prints the result of one stack: a heading, one line per
// resource with its kind (and why it is replaced), its changed values
// indented below, then the parameters and outputs, then the stack's
// summary.
func (r *Result) WriteText(w io.Writer, stack string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s\n", stack)
	for _, res := range r.Resources {
		what := string(res.Kind)
		switch res.Kind {
		case Replace:
			what = "replace: " + res.Reason
		case InPlace:
			what = "change in place"
			if res.Reason != "" {
				what += " (" + res.Reason + ")"
			}
		}
		fmt.Fprintf(&b, "%s %s %s  %s\n", marks[res.Kind], res.Type, res.LogicalID, what)
		writeChanges(&b, res.Changes)
	}
	for _, e := range r.Other {
		fmt.Fprintf(&b, "%s %s.%s  %s\n", map[Op]string{OpAdd: "[+]", OpRemove: "[-]", OpChange: "[~]"}[e.Op], e.Section, e.Name, e.Op)
		writeChanges(&b, e.Changes)
	}
	fmt.Fprintf(&b, "%s: %s\n", stack, r.Counts())
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChanges(b *strings.Builder, changes []Change) {
	for _, c := range changes {
		note := ""
		if c.CreateOnly {
			note = "  (create-only)"
		}
		switch c.Op {
		case OpAdd:
			fmt.Fprintf(b, "      + %s: %s%s\n", c.Path, show(c.New), note)
		case OpRemove:
			fmt.Fprintf(b, "      - %s: %s%s\n", c.Path, show(c.Old), note)
		default:
			fmt.Fprintf(b, "      ~ %s: %s -> %s%s\n", c.Path, show(c.Old), show(c.New), note)
		}
	}
}

// show is a value on one line, cut to a readable length.
func show(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(b.String())
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	return s
}
