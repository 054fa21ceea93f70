package ddbfront

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/lowfare/lowfare/internal/data"
)

// MaxItemSize is DynamoDB's item size limit: "The maximum item size in
// DynamoDB is 400 KB, which includes both attribute name binary length
// (UTF-8 length) and attribute value lengths (again binary length)."
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
const MaxItemSize = 400 * 1024

// DynamoDB's messages for an item over the limit.
const (
	msgItemTooLarge   = "Item size has exceeded the maximum allowed size"
	msgUpdateTooLarge = "Item size to update has exceeded the maximum allowed size"
)

// tooLarge reports whether the item (DynamoDB JSON) is over the limit,
// by DynamoDB's count (data.ItemSize). An item the front cannot read is
// left to the endpoint to refuse.
func tooLarge(item json.RawMessage) bool {
	if len(item) <= MaxItemSize {
		// The JSON of an item is never smaller than its size.
		return false
	}
	var attrs map[string]json.RawMessage
	if json.Unmarshal(item, &attrs) != nil {
		return false
	}
	// data.ParseItem refuses an item over the limit, so the front sizes
	// one attribute at a time and adds up.
	size := 0
	for name, v := range attrs {
		one, err := json.Marshal(map[string]json.RawMessage{name: v})
		if err != nil {
			return false
		}
		parsed, err := data.ParseItem(one)
		if err != nil {
			// One attribute alone over the limit; anything else is the
			// endpoint's to refuse.
			return strings.Contains(err.Error(), "more than DynamoDB's 400 KB")
		}
		size += data.ItemSize(parsed)
	}
	return size > MaxItemSize
}

type putItemInput struct {
	TableName    string
	Item         json.RawMessage
	ReturnValues string
}

func (f *front) putItem(r *http.Request, body []byte) answer {
	var in putItemInput
	if json.Unmarshal(body, &in) != nil {
		return f.forward(r, body)
	}
	if e := noNewValues(in.ReturnValues); e != nil {
		return *e
	}
	if tooLarge(in.Item) {
		return errorAnswer("ValidationException", msgItemTooLarge)
	}
	if e := f.emptyKeyInItem(r, in.TableName, in.Item); e != nil {
		return *e
	}
	if e := emptySetIn(in.Item); e != nil {
		return *e
	}
	f.writes.Lock()
	defer f.writes.Unlock()
	var old json.RawMessage
	if in.ReturnValues == "ALL_OLD" {
		key, ok := f.keyOf(r, in.TableName, in.Item)
		if ok {
			old, _ = f.getItem(r, in.TableName, key)
		}
	}
	a := f.forward(r, body)
	if a.status != http.StatusOK {
		return a
	}
	// minidyn answers every PutItem with the item written; DynamoDB
	// answers with nothing, or with the item it replaced for ALL_OLD.
	return withAttributes(a, old)
}

type updateItemInput struct {
	TableName                 string
	Key                       json.RawMessage
	ReturnValues              string
	UpdateExpression          string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues json.RawMessage
}

func (f *front) updateItem(r *http.Request, body []byte) answer {
	var in updateItemInput
	if json.Unmarshal(body, &in) != nil {
		return f.forward(r, body)
	}
	if e := emptyKey(in.Key); e != nil {
		return *e
	}
	if e := emptySetIn(in.ExpressionAttributeValues); e != nil {
		return *e
	}
	f.writes.Lock()
	defer f.writes.Unlock()
	old, ok := f.getItem(r, in.TableName, in.Key)
	if !ok {
		return f.forward(r, body)
	}
	a := f.forward(r, body)
	if a.status != http.StatusOK {
		return a
	}
	a = f.finishRemove(r, in, a)
	// DynamoDB refuses an update whose result is over the limit; the
	// endpoint has applied it, so the front puts the old item back.
	updated, ok := f.getItem(r, in.TableName, in.Key)
	if ok && tooLarge(updated) {
		if old != nil {
			f.call(r, "PutItem", map[string]any{"TableName": in.TableName, "Item": old})
		} else {
			f.call(r, "DeleteItem", map[string]any{"TableName": in.TableName, "Key": in.Key})
		}
		return errorAnswer("ValidationException", msgUpdateTooLarge)
	}
	switch in.ReturnValues {
	case "", "NONE":
		// minidyn echoes the item; DynamoDB answers with no Attributes.
		return withAttributes(a, nil)
	case "ALL_OLD":
		return withAttributes(a, old)
	}
	return a
}

type batchWriteInput struct {
	RequestItems map[string][]struct {
		PutRequest    *struct{ Item json.RawMessage }
		DeleteRequest *struct{ Key json.RawMessage }
	}
}

func (f *front) batchWriteItem(r *http.Request, body []byte) answer {
	var in batchWriteInput
	if json.Unmarshal(body, &in) == nil {
		// DynamoDB refuses the whole batch for any of these.
		for table, reqs := range in.RequestItems {
			for _, req := range reqs {
				if req.PutRequest != nil && tooLarge(req.PutRequest.Item) {
					return errorAnswer("ValidationException", msgItemTooLarge)
				}
				if req.PutRequest != nil {
					if e := f.emptyKeyInItem(r, table, req.PutRequest.Item); e != nil {
						return *e
					}
					if e := emptySetIn(req.PutRequest.Item); e != nil {
						return *e
					}
				}
				if req.DeleteRequest != nil {
					if e := emptyKey(req.DeleteRequest.Key); e != nil {
						return *e
					}
				}
			}
		}
	}
	f.writes.Lock()
	defer f.writes.Unlock()
	return f.forward(r, body)
}

func (f *front) transactWriteItems(r *http.Request, body []byte) answer {
	var in txInput
	if json.Unmarshal(body, &in) == nil {
		for _, op := range in.TransactItems {
			for kind, it := range op {
				if it == nil {
					continue
				}
				if kind == "Put" && tooLarge(it.Item) {
					return errorAnswer("ValidationException", msgItemTooLarge)
				}
				if kind == "Put" {
					if e := f.emptyKeyInItem(r, it.TableName, it.Item); e != nil {
						return *e
					}
					if e := emptySetIn(it.Item); e != nil {
						return *e
					}
				} else if e := emptyKey(it.Key); e != nil {
					return *e
				}
				valuesJSON, _ := json.Marshal(it.ExpressionAttributeValues)
				if e := emptySetIn(valuesJSON); e != nil {
					return *e
				}
			}
		}
	}
	f.writes.Lock()
	defer f.writes.Unlock()
	var in2 txInput
	if json.Unmarshal(body, &in2) != nil || !hasUpdate(in2) {
		a := f.forward(r, body)
		if a.status == http.StatusBadRequest {
			return f.allReasons(r, body, a)
		}
		return a
	}
	return f.transactWithUpdates(r, body, in2)
}

func hasUpdate(in txInput) bool {
	for _, op := range in.TransactItems {
		if op["Update"] != nil {
			return true
		}
	}
	return false
}

// touched is one item a transaction writes: where, and what it was.
type touched struct {
	table string
	key   json.RawMessage
	old   json.RawMessage
}

// transactWithUpdates runs a transaction with Update items and undoes it
// when an update made its item larger than 400 KB: DynamoDB cancels the
// transaction then, with a ValidationError reason for that item ("An item
// size becomes too large (larger than 400 KB) ... because of changes made
// by the transaction", TransactionCanceledException in
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
// moto 5 answers ValidationException instead.
func (f *front) transactWithUpdates(r *http.Request, body []byte, in txInput) answer {
	items := make([]*touched, len(in.TransactItems))
	for i, op := range in.TransactItems {
		for kind, it := range op {
			if it == nil || kind == "ConditionCheck" {
				continue
			}
			key := it.Key
			if kind == "Put" {
				var ok bool
				if key, ok = f.keyOf(r, it.TableName, it.Item); !ok {
					return f.forward(r, body)
				}
			}
			old, ok := f.getItem(r, it.TableName, key)
			if !ok {
				return f.forward(r, body)
			}
			items[i] = &touched{table: it.TableName, key: key, old: old}
		}
	}
	a := f.forward(r, body)
	if a.status != http.StatusOK {
		if a.status == http.StatusBadRequest {
			return f.allReasons(r, body, a)
		}
		return a
	}
	reasons := make([]reasonWire, len(items))
	over := false
	for i, op := range in.TransactItems {
		reasons[i] = reasonWire{Code: "None"}
		if op["Update"] == nil || items[i] == nil {
			continue
		}
		if now, ok := f.getItem(r, items[i].table, items[i].key); ok && tooLarge(now) {
			reasons[i] = reasonWire{Code: "ValidationError", Message: msgUpdateTooLarge}
			over = true
		}
	}
	if !over {
		return a
	}
	for _, t := range items {
		if t == nil {
			continue
		}
		if t.old != nil {
			f.call(r, "PutItem", map[string]any{"TableName": t.table, "Item": t.old})
		} else {
			f.call(r, "DeleteItem", map[string]any{"TableName": t.table, "Key": t.key})
		}
	}
	return cancelled(reasons)
}

// cancelled is DynamoDB's TransactionCanceledException answer: the
// message lists the reasons' codes, one per item.
func cancelled(reasons []reasonWire) answer {
	codes := make([]string, len(reasons))
	for i, rs := range reasons {
		codes[i] = rs.Code
	}
	body, err := json.Marshal(map[string]any{
		"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		"CancellationReasons": reasons,
	})
	if err != nil {
		return errorAnswer("InternalServerError", err.Error())
	}
	a := errorAnswer("TransactionCanceledException", "")
	a.body = body
	return a
}

// getItem reads an item with a consistent read: nil when there is none;
// ok false when the endpoint refused (no such table, a bad key).
func (f *front) getItem(r *http.Request, table string, key json.RawMessage) (item json.RawMessage, ok bool) {
	a := f.call(r, "GetItem", map[string]any{"TableName": table, "Key": key, "ConsistentRead": true})
	if a.status != http.StatusOK {
		return nil, false
	}
	var out struct{ Item json.RawMessage }
	if json.Unmarshal(a.body, &out) != nil {
		return nil, false
	}
	if len(out.Item) == 0 || string(out.Item) == "null" {
		return nil, true
	}
	return out.Item, true
}

// keyOf is the key attributes of item, by the table's key schema.
func (f *front) keyOf(r *http.Request, table string, item json.RawMessage) (json.RawMessage, bool) {
	a := f.call(r, "DescribeTable", map[string]any{"TableName": table})
	if a.status != http.StatusOK {
		return nil, false
	}
	var desc struct {
		Table struct {
			KeySchema []struct{ AttributeName string }
		}
	}
	var attrs map[string]json.RawMessage
	if json.Unmarshal(a.body, &desc) != nil || json.Unmarshal(item, &attrs) != nil {
		return nil, false
	}
	key := map[string]json.RawMessage{}
	for _, k := range desc.Table.KeySchema {
		v, ok := attrs[k.AttributeName]
		if !ok {
			return nil, false
		}
		key[k.AttributeName] = v
	}
	out, err := json.Marshal(key)
	return out, err == nil
}

// withAttributes replaces the answer's Attributes with attrs, or drops
// them when attrs is nil.
func withAttributes(a answer, attrs json.RawMessage) answer {
	var out map[string]json.RawMessage
	if json.Unmarshal(a.body, &out) != nil {
		return a
	}
	if attrs == nil {
		delete(out, "Attributes")
	} else {
		out["Attributes"] = attrs
	}
	body, err := json.Marshal(out)
	if err != nil {
		return a
	}
	a.body = body
	return a
}

// keyed checks the Key of a GetItem or DeleteItem.
func (f *front) keyed(r *http.Request, body []byte) answer {
	var in struct {
		Key          json.RawMessage
		ReturnValues string
	}
	if json.Unmarshal(body, &in) == nil {
		if e := emptyKey(in.Key); e != nil {
			return *e
		}
		if e := noNewValues(in.ReturnValues); e != nil {
			return *e
		}
	}
	return f.forward(r, body)
}

// batchGetItem refuses a table's key list with one key twice, as
// DynamoDB does ("Provided list of item keys contains duplicates").
func (f *front) batchGetItem(r *http.Request, body []byte) answer {
	var in struct {
		RequestItems map[string]struct {
			Keys []map[string]any
		}
	}
	if json.Unmarshal(body, &in) == nil {
		for _, ka := range in.RequestItems {
			seen := map[string]bool{}
			for _, k := range ka.Keys {
				// json.Marshal sorts map keys: equal keys, equal text.
				b, err := json.Marshal(k)
				if err != nil {
					continue
				}
				if seen[string(b)] {
					return errorAnswer("ValidationException", "Provided list of item keys contains duplicates")
				}
				seen[string(b)] = true
				if e := emptyKey(b); e != nil {
					return *e
				}
			}
		}
	}
	return f.forward(r, body)
}

// noNewValues refuses what PutItem and DeleteItem cannot return: "The
// ReturnValues parameter is used by several DynamoDB operations; however,
// PutItem does not recognize any values other than NONE or ALL_OLD."
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
// (DeleteItem says the same.)
func noNewValues(rv string) *answer {
	if rv == "" || rv == "NONE" || rv == "ALL_OLD" {
		return nil
	}
	a := errorAnswer("ValidationException", "Return values set to invalid value")
	return &a
}
