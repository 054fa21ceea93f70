package ddbfront

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Checks DynamoDB makes before it reads or writes that minidyn does not.

// schema is what the front needs of a table's description.
type schema struct {
	keys    []string            // the table's key attributes
	indexes map[string][]string // key attributes by index name
	global  map[string]bool     // index name: a global secondary index
}

func (f *front) schema(r *http.Request, table string) (schema, bool) {
	a := f.call(r, "DescribeTable", map[string]any{"TableName": table})
	if a.status != http.StatusOK {
		return schema{}, false
	}
	type keyElem struct{ AttributeName string }
	type index struct {
		IndexName string
		KeySchema []keyElem
	}
	var desc struct {
		Table struct {
			KeySchema              []keyElem
			GlobalSecondaryIndexes []index
			LocalSecondaryIndexes  []index
		}
	}
	if json.Unmarshal(a.body, &desc) != nil {
		return schema{}, false
	}
	s := schema{indexes: map[string][]string{}, global: map[string]bool{}}
	for _, k := range desc.Table.KeySchema {
		s.keys = append(s.keys, k.AttributeName)
	}
	add := func(ix index, global bool) {
		for _, k := range ix.KeySchema {
			s.indexes[ix.IndexName] = append(s.indexes[ix.IndexName], k.AttributeName)
		}
		s.global[ix.IndexName] = global
	}
	for _, ix := range desc.Table.GlobalSecondaryIndexes {
		add(ix, true)
	}
	for _, ix := range desc.Table.LocalSecondaryIndexes {
		add(ix, false)
	}
	return s, true
}

// emptyValue reports whether v (DynamoDB JSON) is an empty string or
// binary, which no key attribute, of the table or an index, may hold:
// "the AttributeValue for a key attribute cannot contain an empty
// string value" (String and Binary in
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
func emptyValue(v json.RawMessage) bool {
	var av struct {
		S *string
		B *string
	}
	if json.Unmarshal(v, &av) != nil {
		return false
	}
	return (av.S != nil && *av.S == "") || (av.B != nil && *av.B == "")
}

const msgEmptyKey = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value."

// emptyKeyInItem is the error answer for an item (to be written to table)
// with an empty key attribute of the table or of an index, or nil.
func (f *front) emptyKeyInItem(r *http.Request, table string, item json.RawMessage) *answer {
	var attrs map[string]json.RawMessage
	if json.Unmarshal(item, &attrs) != nil {
		return nil
	}
	s, ok := f.schema(r, table)
	if !ok {
		return nil
	}
	for _, k := range s.keys {
		if v, ok := attrs[k]; ok && emptyValue(v) {
			a := errorAnswer("ValidationException", msgEmptyKey+" Key: "+k)
			return &a
		}
	}
	for name, keys := range s.indexes {
		for _, k := range keys {
			if v, ok := attrs[k]; ok && emptyValue(v) {
				a := errorAnswer("ValidationException", "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: "+name+", IndexKey: "+k)
				return &a
			}
		}
	}
	return nil
}

// emptyKey is the error answer for a Key with an empty attribute, or nil.
func emptyKey(key json.RawMessage) *answer {
	var attrs map[string]json.RawMessage
	if json.Unmarshal(key, &attrs) != nil {
		return nil
	}
	for k, v := range attrs {
		if emptyValue(v) {
			a := errorAnswer("ValidationException", msgEmptyKey+" Key: "+k)
			return &a
		}
	}
	return nil
}

type readInput struct {
	TableName                string
	IndexName                string
	ConsistentRead           bool
	Select                   string
	KeyConditionExpression   string
	ExpressionAttributeNames map[string]string
}

var exprToken = regexp.MustCompile(`#?[A-Za-z_][A-Za-z0-9_]*`)

// missedPartitionKey is the partition key name of the table or index a
// Query reads when its key condition does not name it, or "".
func missedPartitionKey(in readInput, s schema) string {
	keys := s.keys
	if in.IndexName != "" {
		keys = s.indexes[in.IndexName]
	}
	if len(keys) == 0 || in.KeyConditionExpression == "" {
		return ""
	}
	for _, tok := range exprToken.FindAllString(in.KeyConditionExpression, -1) {
		if n, ok := in.ExpressionAttributeNames[tok]; ok {
			tok = n
		}
		if tok == keys[0] {
			return ""
		}
	}
	return keys[0]
}

// read checks a Query or Scan as DynamoDB does and fixes minidyn's
// answer to Select COUNT, which carries the items too.
func (f *front) read(r *http.Request, body []byte) answer {
	var in readInput
	if json.Unmarshal(body, &in) != nil {
		return f.forward(r, body)
	}
	if in.IndexName != "" && in.ConsistentRead {
		// "Strongly consistent reads are not supported on global
		// secondary indexes."
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
		if s, ok := f.schema(r, in.TableName); ok && s.global[in.IndexName] {
			return errorAnswer("ValidationException", "Consistent reads are not supported on global secondary indexes")
		}
	}
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Query") {
		// A Query reads one partition: its key condition names the
		// partition key (KeyConditionExpression in
		// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
		if s, ok := f.schema(r, in.TableName); ok {
			if k := missedPartitionKey(in, s); k != "" {
				return errorAnswer("ValidationException", "Query condition missed key schema element: "+k)
			}
		}
	}
	a := f.forward(r, body)
	if a.status != http.StatusOK {
		return a
	}
	var out map[string]json.RawMessage
	if json.Unmarshal(a.body, &out) != nil {
		return a
	}
	if in.Select == "COUNT" {
		delete(out, "Items")
	}
	// minidyn answers ScannedCount 0; DynamoDB counts the items it read
	// before the filter: the count of the same read without it.
	if scanned, ok := f.scannedCount(r, body, out["Count"]); ok {
		out["ScannedCount"] = scanned
	}
	if fixed, err := json.Marshal(out); err == nil {
		a.body = fixed
	}
	return a
}

// scannedCount is ScannedCount for a Query or Scan that answered count:
// count itself without a filter, else the count of the same read without
// its filter.
func (f *front) scannedCount(r *http.Request, body []byte, count json.RawMessage) (json.RawMessage, bool) {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return nil, false
	}
	if _, ok := req["FilterExpression"]; !ok {
		return count, count != nil
	}
	var names map[string]string
	var values map[string]json.RawMessage
	_ = json.Unmarshal(req["ExpressionAttributeNames"], &names)
	_ = json.Unmarshal(req["ExpressionAttributeValues"], &values)
	var keyCond string
	_ = json.Unmarshal(req["KeyConditionExpression"], &keyCond)
	for _, k := range []string{"FilterExpression", "ProjectionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"} {
		delete(req, k)
	}
	// Only the placeholders the key condition uses: DynamoDB and minidyn
	// refuse unused ones.
	if n := used(nameRef, keyCond, names); len(n) > 0 {
		req["ExpressionAttributeNames"], _ = json.Marshal(n)
	}
	if v := used(valueRef, keyCond, values); len(v) > 0 {
		req["ExpressionAttributeValues"], _ = json.Marshal(v)
	}
	req["Select"] = json.RawMessage(`"COUNT"`)
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	a := f.call(r, action, req)
	if a.status != http.StatusOK {
		return nil, false
	}
	var out struct{ Count json.RawMessage }
	if json.Unmarshal(a.body, &out) != nil || out.Count == nil {
		return nil, false
	}
	return out.Count, true
}

// emptySet reports whether v (DynamoDB JSON of an attribute value) is or
// holds an empty set, which DynamoDB refuses: "empty sets are not
// supported" (Sets in
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
func emptySet(v json.RawMessage, depth int) bool {
	if depth > 32 {
		return false
	}
	var av map[string]json.RawMessage
	if json.Unmarshal(v, &av) != nil {
		return false
	}
	for tag, body := range av {
		switch tag {
		case "SS", "NS", "BS":
			var members []json.RawMessage
			if json.Unmarshal(body, &members) == nil && len(members) == 0 {
				return true
			}
		case "M":
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) == nil {
				for _, e := range m {
					if emptySet(e, depth+1) {
						return true
					}
				}
			}
		case "L":
			var l []json.RawMessage
			if json.Unmarshal(body, &l) == nil {
				for _, e := range l {
					if emptySet(e, depth+1) {
						return true
					}
				}
			}
		}
	}
	return false
}

// emptySetIn is the error answer for attribute values (an item's, or
// ExpressionAttributeValues) holding an empty set, or nil.
func emptySetIn(values json.RawMessage) *answer {
	var attrs map[string]json.RawMessage
	if json.Unmarshal(values, &attrs) != nil {
		return nil
	}
	for _, v := range attrs {
		if emptySet(v, 0) {
			a := errorAnswer("ValidationException", "One or more parameter values were invalid: An empty set is not allowed")
			return &a
		}
	}
	return nil
}

// maxTransactItems is DynamoDB's limit of actions in one transaction:
// "TransactItems ... Maximum number of 100 items."
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
const maxTransactItems = 100

// countChecks refuses requests over DynamoDB's count limits that minidyn
// takes: a transaction of more than 100 actions and a Limit below 1.
func countChecks(action string, body []byte) *answer {
	var in struct {
		TransactItems []json.RawMessage
		Limit         *int
	}
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	if len(in.TransactItems) > maxTransactItems {
		a := errorAnswer("ValidationException", "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
		return &a
	}
	if (action == "Query" || action == "Scan") && in.Limit != nil && *in.Limit < 1 {
		a := errorAnswer("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(*in.Limit)+"' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
		return &a
	}
	return nil
}
