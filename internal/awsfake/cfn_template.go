package awsfake

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type cfnResource struct {
	Type           string          `json:"Type"`
	Properties     json.RawMessage `json:"Properties"`
	DeletionPolicy string          `json:"DeletionPolicy"`
	raw            string
	physicalID     string
}

type cfnTemplate struct {
	Resources map[string]*cfnResource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

func members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func parseCFNTemplate(body string) (*cfnTemplate, error) {
	var t cfnTemplate
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return nil, Errorf("ValidationError", "Template format error: JSON not well-formed. (%v)", err)
	}
	if len(t.Resources) == 0 {
		return nil, Errorf("ValidationError", "Template format error: At least one Resources member must be defined.")
	}
	for id, r := range t.Resources {
		if r == nil || r.Type == "" {
			return nil, Errorf("ValidationError", "Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
		}
		raw, _ := json.Marshal(struct {
			Type       string
			Properties json.RawMessage `json:",omitempty"`
			Policy     string
		}{r.Type, compactJSON(r.Properties), r.DeletionPolicy})
		r.raw = string(raw)
	}
	return &t, nil
}

func compactJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func sortedIDs(t *cfnTemplate) []string {
	if t == nil {
		return nil
	}
	ids := slices.Sorted(maps.Keys(t.Resources))
	return ids
}

// refersTo reports whether a resource's properties use the parameter.
func refersTo(r *cfnResource, param string) bool {
	return strings.Contains(r.raw, `{"Ref":"`+param+`"}`) || strings.Contains(r.raw, "${"+param+"}")
}
