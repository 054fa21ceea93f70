package ddbfront

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// A cancelled transaction: DynamoDB checks every item's condition and
// gives one reason per item, ConditionalCheckFailed for each whose
// condition failed ("[ConditionalCheckFailed, None, ConditionalCheckFailed]").
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
// minidyn stops at the first failed condition and calls the rest None.
// The front checks the other conditions itself, one ConditionCheck each:
// the transaction was cancelled, so nothing was written and every check
// sees the table the transaction saw.

// txItem is one item of TransactWriteItems: its operation's fields the
// front needs.
type txItem struct {
	TableName                           string
	Key                                 json.RawMessage
	Item                                json.RawMessage
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]json.RawMessage
	ReturnValuesOnConditionCheckFailure string `json:",omitempty"`
}

type txInput struct {
	TransactItems []map[string]*txItem
}

type reasonWire struct {
	Code    string
	Message string          `json:",omitempty"`
	Item    json.RawMessage `json:",omitempty"`
}

const msgConditionFailed = "The conditional request failed"

// allReasons rewrites the answer of a transaction minidyn cancelled for a
// failed condition so that it names every failed condition.
func (f *front) allReasons(r *http.Request, body []byte, a answer) answer {
	var out struct {
		Type                string `json:"__type"`
		CancellationReasons []reasonWire
	}
	var in txInput
	if json.Unmarshal(a.body, &out) != nil || !strings.HasSuffix(out.Type, "TransactionCanceledException") ||
		json.Unmarshal(body, &in) != nil || len(out.CancellationReasons) != len(in.TransactItems) {
		return a
	}
	for _, rs := range out.CancellationReasons {
		if rs.Code != "None" && rs.Code != "ConditionalCheckFailed" {
			// Cancelled for another reason: not the front's to redo.
			return a
		}
	}
	reasons := out.CancellationReasons
	for i, op := range in.TransactItems {
		if reasons[i].Code != "None" {
			continue
		}
		for _, it := range op {
			if it == nil || it.ConditionExpression == "" {
				continue
			}
			if failed, item := f.conditionFails(r, it); failed {
				reasons[i] = reasonWire{Code: "ConditionalCheckFailed", Message: msgConditionFailed, Item: item}
			}
		}
	}
	return cancelled(reasons)
}

var (
	valueRef = regexp.MustCompile(`:[A-Za-z0-9_]+`)
	nameRef  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
)

// conditionFails checks it's condition alone, as a one-item transaction
// with a ConditionCheck (which writes nothing), and returns the item
// when the condition failed and it asked for ALL_OLD.
func (f *front) conditionFails(r *http.Request, it *txItem) (bool, json.RawMessage) {
	key := it.Key
	if len(key) == 0 {
		var ok bool
		if key, ok = f.keyOf(r, it.TableName, it.Item); !ok {
			return false, nil
		}
	}
	check := map[string]any{
		"TableName":           it.TableName,
		"Key":                 key,
		"ConditionExpression": it.ConditionExpression,
	}
	// Only the placeholders the condition uses: the others belong to the
	// update expression, and DynamoDB refuses unused ones.
	if names := used(nameRef, it.ConditionExpression, it.ExpressionAttributeNames); len(names) > 0 {
		check["ExpressionAttributeNames"] = names
	}
	if values := used(valueRef, it.ConditionExpression, it.ExpressionAttributeValues); len(values) > 0 {
		check["ExpressionAttributeValues"] = values
	}
	if it.ReturnValuesOnConditionCheckFailure != "" {
		check["ReturnValuesOnConditionCheckFailure"] = it.ReturnValuesOnConditionCheckFailure
	}
	a := f.call(r, "TransactWriteItems", map[string]any{"TransactItems": []any{map[string]any{"ConditionCheck": check}}})
	if a.status == http.StatusOK {
		return false, nil
	}
	var out struct{ CancellationReasons []reasonWire }
	if json.Unmarshal(a.body, &out) != nil || len(out.CancellationReasons) != 1 || out.CancellationReasons[0].Code != "ConditionalCheckFailed" {
		return false, nil
	}
	return true, out.CancellationReasons[0].Item
}

func used[V any](ref *regexp.Regexp, expr string, all map[string]V) map[string]V {
	out := map[string]V{}
	for _, p := range ref.FindAllString(expr, -1) {
		if v, ok := all[p]; ok {
			out[p] = v
		}
	}
	return out
}
