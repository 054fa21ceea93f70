package ddbfront

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// ExecuteTransaction: "The entire transaction must consist of either
// read statements or write statements. You can't mix both in one
// transaction. The EXISTS function is an exception." Reads become one
// TransactGetItems, writes (and EXISTS, as a ConditionCheck) one
// TransactWriteItems, so the front's transaction fixes (a reason per
// item, the 400 KB limit) apply. "If any of the singleton INSERT,
// UPDATE, or DELETE operations returns an error, the transactions are
// canceled with the TransactionCanceledException exception, and the
// cancellation reason code includes the errors from the individual
// singleton operations": an INSERT whose key exists has the code
// DuplicateItem, the code of its singleton error (DuplicateItemException;
// BatchStatementError lists the code), inferred: the guide names no code.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.multiplestatements.transactions.html

// maxTransactStatements: "PartiQL transactions are limited to 100 total
// statements (actions)."
const maxTransactStatements = 100

func (f *front) executeTransaction(r *http.Request, body []byte) answer {
	var in struct {
		TransactStatements []struct {
			Statement  string
			Parameters []json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorAnswer("SerializationException", "the request is not an ExecuteTransaction input: "+err.Error())
	}
	if len(in.TransactStatements) == 0 || len(in.TransactStatements) > maxTransactStatements {
		return errorAnswer("ValidationException", fmt.Sprintf("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxTransactStatements))
	}
	var gets, writes []map[string]any
	inserts := map[int]bool{}
	for i, ts := range in.TransactStatements {
		st, err := parsePartiQL(ts.Statement)
		if err != nil {
			return errorAnswer("ValidationException", err.Error())
		}
		if st.params != len(ts.Parameters) {
			return errorAnswer("ValidationException", "Number of parameters in request and statement don't match.")
		}
		if st.returning != "" {
			return errorAnswer("ValidationException", devLimit+"RETURNING in a transaction")
		}
		params := ts.Parameters
		val := func(v pqValue) json.RawMessage {
			if v.param >= 0 {
				return params[v.param]
			}
			return v.lit
		}
		s, ok := f.schema(r, st.table)
		if !ok {
			return errorAnswer("ResourceNotFoundException", "Requested resource not found")
		}
		switch st.kind {
		case stmtSelect:
			get, e := getReq(st, s, val)
			if e != nil {
				return *e
			}
			gets = append(gets, map[string]any{"Get": get})
		case stmtInsert:
			inserts[i] = true
			writes = append(writes, map[string]any{"Put": insertReq(st, s, val)})
		default:
			action, req, e := writeReq(st, s, val)
			if e != nil {
				return *e
			}
			kind := map[string]string{"UpdateItem": "Update", "DeleteItem": "Delete", "ConditionCheck": "ConditionCheck"}[action]
			writes = append(writes, map[string]any{kind: req})
		}
	}
	if len(gets) > 0 && len(writes) > 0 {
		return errorAnswer("ValidationException", "The entire transaction must consist of either read statements or write statements")
	}
	if len(gets) > 0 {
		a := f.op(r, "TransactGetItems", map[string]any{"TransactItems": gets})
		if a.status != http.StatusOK {
			return a
		}
		var out struct{ Responses []json.RawMessage }
		if err := json.Unmarshal(a.body, &out); err != nil {
			return errorAnswer("InternalServerError", "unreadable TransactGetItems answer: "+err.Error())
		}
		return jsonAnswer(map[string]any{"Responses": nonNil(out.Responses)})
	}
	a := f.op(r, "TransactWriteItems", map[string]any{"TransactItems": writes})
	if a.status == http.StatusOK {
		return jsonAnswer(map[string]any{"Responses": []any{}})
	}
	var out struct{ CancellationReasons []reasonWire }
	if errorType(a) != "TransactionCanceledException" || json.Unmarshal(a.body, &out) != nil || len(out.CancellationReasons) != len(writes) {
		return a
	}
	for i := range out.CancellationReasons {
		if inserts[i] && out.CancellationReasons[i].Code == "ConditionalCheckFailed" {
			out.CancellationReasons[i] = reasonWire{Code: "DuplicateItem", Message: "Duplicate primary key exists in table"}
		}
	}
	return cancelled(out.CancellationReasons)
}

// getReq is the transaction Get of a SELECT: the whole key and nothing
// else, as a transaction reads single items.
func getReq(st *statement, s schema, val func(pqValue) json.RawMessage) (map[string]any, *answer) {
	key, rest, ok := keyOfWhere(st.where, s.keys, val)
	if !ok || len(rest) > 0 || st.index != "" {
		return nil, validation("Select statements within a transaction must specify the whole primary key, with equalities, and nothing else")
	}
	req := map[string]any{"TableName": st.table, "Key": key}
	if len(st.projection) > 0 {
		x := newExprs()
		ps := ""
		for i, a := range st.projection {
			if i > 0 {
				ps += ", "
			}
			ps += x.name(a)
		}
		req["ProjectionExpression"] = ps
		x.add(req)
	}
	return req, nil
}
