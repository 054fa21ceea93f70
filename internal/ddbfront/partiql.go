package ddbfront

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// PartiQL: minidyn has none, and the app's role grants the PartiQL
// actions, so the front answers ExecuteStatement and
// BatchExecuteStatement for the subset single-table apps use, each
// statement translated onto the operations the front already serves
// (GetItem, Query, Scan, PutItem, UpdateItem, DeleteItem through
// f.op), so checksums, validation and limits stay one piece of code:
//
//	SELECT * | a, b FROM "table"[."index"] [WHERE cond AND ...]
//	INSERT INTO "table" VALUE {'PK': ?, 'SK': 'x', ...}
//	UPDATE "table" SET a = ?, b = b + 1 REMOVE c WHERE PK = ? AND SK = ? [RETURNING ...]
//	DELETE FROM "table" WHERE PK = ? AND SK = ? [RETURNING ALL OLD *]
//
// where a condition is attr = | <> | < | <= | > | >= value,
// attr BETWEEN value AND value, or begins_with(attr, value), and a value
// is ?, 'string', a number, TRUE, FALSE, NULL, {'map': ...} or [list].
// Anything else is refused with a ValidationException that starts with
// devLimit. The statements' semantics:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.select.html
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.delete.html

type executeInput struct {
	Statement      string
	Parameters     []json.RawMessage
	ConsistentRead bool
	NextToken      string
	Limit          *int
	// ReturnValuesOnConditionCheckFailure goes to the UpdateItem or
	// DeleteItem of an UPDATE or DELETE.
	ReturnValuesOnConditionCheckFailure string
}

// exec is one statement's result: an error answer, or the items.
type exec struct {
	err       *answer
	items     []json.RawMessage
	lastKey   json.RawMessage
	tableName string
}

func (f *front) executeStatement(r *http.Request, body []byte) answer {
	var in executeInput
	if err := json.Unmarshal(body, &in); err != nil {
		return errorAnswer("SerializationException", "the request is not an ExecuteStatement input: "+err.Error())
	}
	res := f.execute(r, in, false)
	if res.err != nil {
		return *res.err
	}
	out := map[string]any{"Items": nonNil(res.items)}
	if res.lastKey != nil {
		// "If the response of a read request exceeds the response
		// payload limit DynamoDB will set this value in the response":
		// the front's token is the key where the read stopped.
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(res.lastKey)
		out["LastEvaluatedKey"] = res.lastKey
	}
	return jsonAnswer(out)
}

func nonNil(items []json.RawMessage) []json.RawMessage {
	if items == nil {
		return []json.RawMessage{}
	}
	return items
}

func jsonAnswer(v any) answer {
	body, err := json.Marshal(v)
	if err != nil {
		return errorAnswer("InternalServerError", err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return answer{status: http.StatusOK, header: h, body: body}
}

func validation(msg string) *answer {
	a := errorAnswer("ValidationException", msg)
	return &a
}

// execute runs one statement. batch asks for BatchExecuteStatement's
// rule that a SELECT names the whole primary key.
func (f *front) execute(r *http.Request, in executeInput, batch bool) exec {
	st, err := parsePartiQL(in.Statement)
	if err != nil {
		return exec{err: validation(err.Error())}
	}
	if st.params != len(in.Parameters) {
		return exec{err: validation("Number of parameters in request and statement don't match.")}
	}
	val := func(v pqValue) json.RawMessage {
		if v.param >= 0 {
			return in.Parameters[v.param]
		}
		return v.lit
	}
	s, ok := f.schema(r, st.table)
	if !ok {
		// DynamoDB's answer for a statement on a table that is not there.
		a := errorAnswer("ResourceNotFoundException", "Requested resource not found")
		return exec{err: &a, tableName: st.table}
	}
	var e exec
	switch st.kind {
	case stmtSelect:
		e = f.selectStmt(r, st, s, in, val, batch)
	case stmtInsert:
		e = f.insertStmt(r, st, s, val)
	case stmtUpdate, stmtDelete:
		e = f.writeStmt(r, st, s, val, in.ReturnValuesOnConditionCheckFailure)
	case stmtExists:
		// "The EXISTS function can only be used in transactions."
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-functions.exists.html
		e = exec{err: validation("EXISTS can only be used in a transaction (ExecuteTransaction)")}
	}
	e.tableName = st.table
	return e
}

// exprs collects the placeholders of the expressions a statement becomes.
type exprs struct {
	names  map[string]string
	values map[string]json.RawMessage
	byName map[string]string
}

func newExprs() *exprs {
	return &exprs{names: map[string]string{}, values: map[string]json.RawMessage{}, byName: map[string]string{}}
}

func (x *exprs) name(n string) string {
	if p, ok := x.byName[n]; ok {
		return p
	}
	p := fmt.Sprintf("#n%d", len(x.names))
	x.names[p], x.byName[n] = n, p
	return p
}

func (x *exprs) value(v json.RawMessage) string {
	p := fmt.Sprintf(":v%d", len(x.values))
	x.values[p] = v
	return p
}

func (x *exprs) cond(c cond, val func(pqValue) json.RawMessage) string {
	n := x.name(c.attr)
	switch c.op {
	case "BETWEEN":
		return n + " BETWEEN " + x.value(val(c.vals[0])) + " AND " + x.value(val(c.vals[1]))
	case "begins_with":
		return "begins_with(" + n + ", " + x.value(val(c.vals[0])) + ")"
	}
	return n + " " + c.op + " " + x.value(val(c.vals[0]))
}

func (x *exprs) and(conds []cond, val func(pqValue) json.RawMessage) string {
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = x.cond(c, val)
	}
	return strings.Join(parts, " AND ")
}

// add puts the placeholders into a request.
func (x *exprs) add(req map[string]any) {
	if len(x.names) > 0 {
		req["ExpressionAttributeNames"] = x.names
	}
	if len(x.values) > 0 {
		req["ExpressionAttributeValues"] = x.values
	}
}

// selectStmt is a SELECT as GetItem (the whole key, nothing else), Query
// (an equality on the partition key) or Scan. "Using the SELECT
// statement can result in a full table scan if an equality or IN
// condition with a partition key is not provided in the WHERE clause"
// (ql-reference.select.html): DynamoDB takes such a SELECT and scans,
// and so does the front; the other conditions become a filter.
func (f *front) selectStmt(r *http.Request, st *statement, s schema, in executeInput, val func(pqValue) json.RawMessage, batch bool) exec {
	keys := s.keys
	if st.index != "" {
		ix, ok := s.indexes[st.index]
		if !ok {
			return exec{err: validation("The table does not have the specified index: " + st.index)}
		}
		keys = ix
	}
	var pkCond, skCond *cond
	var rest []cond
	for i := range st.where {
		c := &st.where[i]
		switch {
		case pkCond == nil && len(keys) > 0 && c.attr == keys[0] && c.op == "=":
			pkCond = c
		case skCond == nil && len(keys) > 1 && c.attr == keys[1] && c.op != "<>":
			skCond = c
		default:
			rest = append(rest, *c)
		}
	}
	if pkCond == nil && skCond != nil {
		rest, skCond = append(rest, *skCond), nil
	}
	whole := pkCond != nil && (len(keys) == 1 || skCond != nil && skCond.op == "=")
	if batch && (!whole || st.index != "") {
		// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html
		// reads one item per statement.
		return exec{err: validation("Select statements within BatchExecuteStatement must specify the primary key in the where clause.")}
	}
	x := newExprs()
	req := map[string]any{"TableName": st.table}
	if in.ConsistentRead {
		req["ConsistentRead"] = true
	}
	if len(st.projection) > 0 {
		ps := make([]string, len(st.projection))
		for i, a := range st.projection {
			ps[i] = x.name(a)
		}
		req["ProjectionExpression"] = strings.Join(ps, ", ")
	}
	if whole && st.index == "" && len(rest) == 0 && in.Limit == nil && in.NextToken == "" {
		key := map[string]json.RawMessage{keys[0]: val(pkCond.vals[0])}
		if skCond != nil {
			key[keys[1]] = val(skCond.vals[0])
		}
		req["Key"] = key
		x.add(req)
		a := f.op(r, "GetItem", req)
		if a.status != http.StatusOK {
			return exec{err: &a}
		}
		var out struct{ Item json.RawMessage }
		if err := json.Unmarshal(a.body, &out); err != nil {
			return exec{err: validation("unreadable GetItem answer: " + err.Error())}
		}
		if len(out.Item) == 0 || string(out.Item) == "null" {
			return exec{}
		}
		return exec{items: []json.RawMessage{out.Item}}
	}
	action := "Scan"
	if pkCond != nil {
		action = "Query"
		kc := []cond{*pkCond}
		if skCond != nil {
			kc = append(kc, *skCond)
		}
		req["KeyConditionExpression"] = x.and(kc, val)
	}
	if st.index != "" {
		req["IndexName"] = st.index
	}
	if len(rest) > 0 {
		req["FilterExpression"] = x.and(rest, val)
	}
	if in.Limit != nil {
		req["Limit"] = *in.Limit
	}
	if in.NextToken != "" {
		start, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || !json.Valid(start) {
			return exec{err: validation("Invalid NextToken")}
		}
		req["ExclusiveStartKey"] = json.RawMessage(start)
	}
	x.add(req)
	a := f.op(r, action, req)
	if a.status != http.StatusOK {
		return exec{err: &a}
	}
	var out struct {
		Items            []json.RawMessage
		LastEvaluatedKey json.RawMessage
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		return exec{err: validation("unreadable " + action + " answer: " + err.Error())}
	}
	e := exec{items: out.Items}
	if len(out.LastEvaluatedKey) > 0 && string(out.LastEvaluatedKey) != "null" {
		e.lastKey = out.LastEvaluatedKey
	}
	return e
}

// insertStmt is a PutItem that fails on an item with the same key: "If
// the DynamoDB table already has an item with the same primary key as
// the primary key of the item being inserted, DuplicateItemException is
// returned."
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html
func (f *front) insertStmt(r *http.Request, st *statement, s schema, val func(pqValue) json.RawMessage) exec {
	a := f.op(r, "PutItem", insertReq(st, s, val))
	if a.status == http.StatusOK {
		return exec{}
	}
	if errorType(a) == "ConditionalCheckFailedException" {
		d := errorAnswer("DuplicateItemException", "Duplicate primary key exists in table")
		return exec{err: &d}
	}
	return exec{err: &a}
}

// insertReq is the PutItem (or transaction Put) of an INSERT.
func insertReq(st *statement, s schema, val func(pqValue) json.RawMessage) map[string]any {
	item := map[string]json.RawMessage{}
	for _, k := range st.itemOrder {
		item[k] = val(st.item[k])
	}
	x := newExprs()
	req := map[string]any{"TableName": st.table, "Item": item, "ConditionExpression": "attribute_not_exists(" + x.name(s.keys[0]) + ")"}
	x.add(req)
	return req
}

// errorType is the DynamoDB error type of an answer, without its prefix.
func errorType(a answer) string {
	var out struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(a.body, &out) != nil {
		return ""
	}
	return out.Type[strings.LastIndex(out.Type, "#")+1:]
}

// errMissingKey is DynamoDB's refusal of an UPDATE or DELETE whose WHERE
// clause does not pin one item: "this condition must resolve to a single
// primary key value" (ql-reference.update.html, ql-reference.delete.html).
const msgMissingKey = "Where clause does not contain a mandatory equality on all key attributes"

// keyOfWhere splits a WHERE clause into the item's key (an equality on
// each key attribute) and the other conditions.
func keyOfWhere(where []cond, keys []string, val func(pqValue) json.RawMessage) (map[string]json.RawMessage, []cond, bool) {
	key := map[string]json.RawMessage{}
	var rest []cond
	for _, c := range where {
		isKey := false
		for _, k := range keys {
			if c.attr == k && c.op == "=" {
				if _, dup := key[k]; !dup {
					isKey = true
					key[k] = val(c.vals[0])
				}
			}
		}
		if !isKey {
			rest = append(rest, c)
		}
	}
	if len(key) != len(keys) {
		return nil, nil, false
	}
	return key, rest, true
}

// writeStmt is an UPDATE (an UpdateItem of an item that exists) or a
// DELETE (a DeleteItem). The other conditions of the WHERE clause become
// the operation's condition.
//
// UPDATE: the WHERE clause is a condition on the item, so an item that
// does not exist fails it with ConditionalCheckFailedException, and no
// item is created (DynamoDB's UPDATE is not an upsert, unlike
// UpdateItem; moto 5 answers success and writes nothing). The update
// reference says the condition "must resolve to a single primary key
// value" but names no error for a missing item; the error is the one
// the delete reference names for a WHERE clause that is false
// (below), and the one DynamoDB is known to answer.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html
//
// DELETE: "If the DynamoDB table does not have any item with the same
// primary key as that of the item for which the DELETE is issued,
// SUCCESS is returned with 0 items deleted. If the table has an item
// with same primary key, but the condition in the WHERE clause of the
// DELETE statement evaluates to false, ConditionalCheckFailedException
// is returned."
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.delete.html
func (f *front) writeStmt(r *http.Request, st *statement, s schema, val func(pqValue) json.RawMessage, onFailure string) exec {
	action, req, e := writeReq(st, s, val)
	if e != nil {
		return exec{err: e}
	}
	if onFailure != "" {
		req["ReturnValuesOnConditionCheckFailure"] = onFailure
	}
	if st.returning != "" {
		req["ReturnValues"] = st.returning
	}
	a := f.op(r, action, req)
	if a.status != http.StatusOK {
		return exec{err: &a}
	}
	if st.returning == "" {
		return exec{}
	}
	var out struct{ Attributes json.RawMessage }
	if json.Unmarshal(a.body, &out) != nil || len(out.Attributes) == 0 || string(out.Attributes) == "null" {
		return exec{}
	}
	return exec{items: []json.RawMessage{out.Attributes}}
}

// writeReq is the UpdateItem or DeleteItem of an UPDATE or DELETE, or
// the ConditionCheck of an EXISTS: the operation and its input.
func writeReq(st *statement, s schema, val func(pqValue) json.RawMessage) (string, map[string]any, *answer) {
	key, rest, ok := keyOfWhere(st.where, s.keys, val)
	if !ok {
		return "", nil, validation(msgMissingKey)
	}
	x := newExprs()
	req := map[string]any{"TableName": st.table, "Key": key}
	action := "DeleteItem"
	switch st.kind {
	case stmtUpdate:
		action = "UpdateItem"
		var parts []string
		if len(st.set) > 0 {
			sets := make([]string, len(st.set))
			for i, sc := range st.set {
				sets[i] = x.name(sc.attr) + " = " + x.operand(sc.left, val)
				if sc.op != "" {
					sets[i] += " " + sc.op + " " + x.operand(sc.right, val)
				}
			}
			parts = append(parts, "SET "+strings.Join(sets, ", "))
		}
		if len(st.remove) > 0 {
			rs := make([]string, len(st.remove))
			for i, a := range st.remove {
				rs[i] = x.name(a)
			}
			parts = append(parts, "REMOVE "+strings.Join(rs, ", "))
		}
		req["UpdateExpression"] = strings.Join(parts, " ")
		cond := "attribute_exists(" + x.name(s.keys[0]) + ")"
		if len(rest) > 0 {
			cond += " AND " + x.and(rest, val)
		}
		req["ConditionExpression"] = cond
	case stmtExists:
		// EXISTS is true when its SELECT finds the item.
		action = "ConditionCheck"
		cond := "attribute_exists(" + x.name(s.keys[0]) + ")"
		if len(rest) > 0 {
			cond += " AND " + x.and(rest, val)
		}
		req["ConditionExpression"] = cond
	default:
		if len(rest) > 0 {
			req["ConditionExpression"] = "attribute_not_exists(" + x.name(s.keys[0]) + ") OR (" + x.and(rest, val) + ")"
		}
	}
	x.add(req)
	return action, req, nil
}

func (x *exprs) operand(o operand, val func(pqValue) json.RawMessage) string {
	if o.attr != "" {
		return x.name(o.attr)
	}
	return x.value(val(o.val))
}

// maxBatchStatements: "Statements ... Maximum number of 25 items."
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html
const maxBatchStatements = 25

// batchExecuteStatement runs each statement alone: a batch is not a
// transaction, and each statement answers for itself, an Item or an
// Error (BatchStatementResponse in the API reference).
func (f *front) batchExecuteStatement(r *http.Request, body []byte) answer {
	var in struct {
		Statements []struct {
			Statement      string
			Parameters     []json.RawMessage
			ConsistentRead bool
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorAnswer("SerializationException", "the request is not a BatchExecuteStatement input: "+err.Error())
	}
	if len(in.Statements) == 0 || len(in.Statements) > maxBatchStatements {
		return errorAnswer("ValidationException", fmt.Sprintf("1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxBatchStatements))
	}
	responses := make([]map[string]any, len(in.Statements))
	for i, s := range in.Statements {
		res := f.execute(r, executeInput{Statement: s.Statement, Parameters: s.Parameters, ConsistentRead: s.ConsistentRead}, true)
		resp := map[string]any{}
		if res.tableName != "" {
			resp["TableName"] = res.tableName
		}
		if res.err != nil {
			resp["Error"] = map[string]string{"Code": batchCode(errorType(*res.err)), "Message": errorMessage(*res.err)}
		} else if len(res.items) > 0 {
			resp["Item"] = res.items[0]
		}
		responses[i] = resp
	}
	return jsonAnswer(map[string]any{"Responses": responses})
}

// batchCode is the BatchStatementError code for an error type: the
// type without "Exception", and ValidationError for a ValidationException.
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchStatementError.html
func batchCode(typ string) string {
	code := strings.TrimSuffix(typ, "Exception")
	if code == "Validation" {
		return "ValidationError"
	}
	return code
}

func errorMessage(a answer) string {
	var out struct {
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if json.Unmarshal(a.body, &out) != nil {
		return ""
	}
	if out.Message != "" {
		return out.Message
	}
	return out.MessageU
}
