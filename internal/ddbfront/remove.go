package ddbfront

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// minidyn 0.8.2 answers an UpdateItem with REMOVE as if it had removed the
// attributes, and keeps them. The front removes top-level attributes a
// REMOVE names (a name or a #placeholder) that are still there; nested
// paths (a.b, a[0]) are left as minidyn leaves them.

var (
	removeClause = regexp.MustCompile(`(?i)\bREMOVE\b(.*?)(?:\b(?:SET|ADD|DELETE)\b|$)`)
	simplePath   = regexp.MustCompile(`^#?[A-Za-z0-9_]+$`)
)

// removedNames is the top-level attribute names the update expression
// removes.
func removedNames(expr string, names map[string]string) []string {
	var out []string
	for _, m := range removeClause.FindAllStringSubmatch(expr, -1) {
		for _, p := range strings.Split(m[1], ",") {
			p = strings.TrimSpace(p)
			if !simplePath.MatchString(p) {
				continue
			}
			if strings.HasPrefix(p, "#") {
				n, ok := names[p]
				if !ok {
					continue
				}
				p = n
			}
			out = append(out, p)
		}
	}
	return out
}

// finishRemove removes what the update's REMOVE named from the stored
// item and from the answer's Attributes; it returns the answer.
func (f *front) finishRemove(r *http.Request, in updateItemInput, a answer) answer {
	removed := removedNames(in.UpdateExpression, in.ExpressionAttributeNames)
	if len(removed) == 0 {
		return a
	}
	now, ok := f.getItem(r, in.TableName, in.Key)
	if !ok || now == nil {
		return a
	}
	var attrs map[string]json.RawMessage
	if json.Unmarshal(now, &attrs) != nil {
		return a
	}
	left := false
	for _, n := range removed {
		if _, ok := attrs[n]; ok {
			delete(attrs, n)
			left = true
		}
	}
	if left {
		f.call(r, "PutItem", map[string]any{"TableName": in.TableName, "Item": attrs})
	}
	if in.ReturnValues != "ALL_NEW" && in.ReturnValues != "UPDATED_NEW" {
		return a
	}
	var out struct{ Attributes map[string]json.RawMessage }
	if json.Unmarshal(a.body, &out) != nil || out.Attributes == nil {
		return a
	}
	for _, n := range removed {
		delete(out.Attributes, n)
	}
	fixed, err := json.Marshal(out.Attributes)
	if err != nil {
		return a
	}
	return withAttributes(a, fixed)
}
