package ddbfront_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

// pqStep is a PartiQL step of the differential test. aws, when set, is
// the answer DynamoDB gives where moto 5 (py-partiql-parser 0.6.3)
// departs from it: the dev endpoint must give aws, and moto is not
// asked. Each such step says where moto departs and cites AWS.
type pqStep struct {
	step
	aws string
	// onMoto, for a step with aws, writes to moto's table what the
	// statement writes to DynamoDB's (through the API moto serves), so
	// the tables stay alike for the steps after it.
	onMoto func(ctx context.Context, c *dynamodb.Client, table string) error
}

// inTable puts the table's name into a statement: TABLE is "table",
// "TABLE_x" is "table_x", a table that is not there.
func inTable(statement, table string) string {
	statement = strings.ReplaceAll(statement, `"TABLE_`, `"`+table+`_`)
	return strings.ReplaceAll(statement, "TABLE", `"`+table+`"`)
}

// stmt runs one statement and shows its items.
func stmt(statement string, params ...types.AttributeValue) func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
	return func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
			Statement: aws.String(inTable(statement, table)), Parameters: params})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(out.Items), " ", items(out.Items...)), nil
	}
}

// getKey shows the item at key, so a write step shows what it wrote.
func then(write, read func(ctx context.Context, c *dynamodb.Client, table string) (string, error)) func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
	return func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		w, err := write(ctx, c, table)
		if err != nil {
			return "", err
		}
		r, err := read(ctx, c, table)
		return w + " then " + r, err
	}
}

func pq(name, action string, run func(ctx context.Context, c *dynamodb.Client, table string) (string, error)) pqStep {
	return pqStep{step: step{name, action, run}}
}

// pqAWS is a step where moto departs from DynamoDB: want is DynamoDB's
// answer. onMoto, if any, is the step's write, for moto's table.
func pqAWS(name, action string, run func(ctx context.Context, c *dynamodb.Client, table string) (string, error), want string,
	onMoto ...func(ctx context.Context, c *dynamodb.Client, table string) error) pqStep {
	st := pqStep{step: step{name, action, run}, aws: want}
	if len(onMoto) > 0 {
		st.onMoto = onMoto[0]
	}
	return st
}

var (
	p1 = withAttrs(key("P", "1"), "v", s("one"), "n", n("5"), "GSI1PK", s("PG"), "GSI1SK", s("1"))
	p2 = withAttrs(key("P", "2"), "v", s("two"), "GSI1PK", s("PG"), "GSI1SK", s("2"))
	p3 = withAttrs(key("P", "3"), "v", s("three"))
	// p4 is what the parameter INSERT writes, and the counter UPDATE
	// then changes.
	p4 = withAttrs(key("P", "4"), "v", s("four"), "c", n("1"))
)

// pqSteps run in order on one table, after nothing else.
var pqSteps = []pqStep{
	pq("insert, literals", "PartiQLInsert", then(
		stmt(`INSERT INTO TABLE VALUE {'PK': 'P', 'SK': '1', 'v': 'one', 'n': 5, 'GSI1PK': 'PG', 'GSI1SK': '1'}`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '1'`))),
	pq("insert, another", "PartiQLInsert", stmt(`INSERT INTO TABLE VALUE {'PK': 'P', 'SK': '2', 'v': 'two', 'GSI1PK': 'PG', 'GSI1SK': '2'}`)),
	// moto 5 answers an INSERT into a missing table with a 500.
	pqAWS("insert, a missing table", "PartiQLInsert", stmt(`INSERT INTO "TABLE_x" VALUE {'PK': 'P', 'SK': '3'}`),
		"error ResourceNotFoundException"),
	pq("insert, a third", "PartiQLInsert", stmt(`INSERT INTO TABLE VALUE {'PK': 'P', 'SK': '3', 'v': 'three'}`)),
	// moto 5 answers an INSERT with ? parameters with a 500.
	pqAWS("insert, parameters", "PartiQLInsert", then(
		stmt(`INSERT INTO TABLE VALUE {'PK': ?, 'SK': ?, 'v': ?, 'c': ?}`, s("P"), s("4"), s("four"), n("1")),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '4'`)),
		"0 [] then 1 "+items(p4),
		func(ctx context.Context, c *dynamodb.Client, table string) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: p4})
			return err
		}),
	// moto 5 replaces the item. "If the DynamoDB table already has an
	// item with the same primary key as the primary key of the item
	// being inserted, DuplicateItemException is returned."
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html
	pqAWS("insert, the key exists", "PartiQLInsert", then(
		stmt(`INSERT INTO TABLE VALUE {'PK': 'P', 'SK': '1', 'v': 'replaced'}`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '1'`)),
		"error DuplicateItemException"),
	pq("select, the whole key", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = ? AND SK = ?`, s("P"), s("2"))),
	pq("select, the whole key, quoted names", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE "PK" = 'P' AND "SK" = '3'`)),
	pq("select, a missing item", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '9'`)),
	pq("select, a partition", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = ?`, s("P"))),
	pq("select, a projection", "PartiQLSelect", stmt(`SELECT SK, v FROM TABLE WHERE PK = 'P'`)),
	pq("select, sort key greater", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK > ?`, s("2"))),
	// moto 5 leaves out the upper bound. DynamoDB: "a BETWEEN b AND c:
	// true if a is greater than or equal to b, and less than or equal
	// to c."
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
	pqAWS("select, sort key between", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK BETWEEN '2' AND '3'`),
		"2 "+items(p2, p3)),
	pq("select, a filter", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND v = 'two'`)),
	// moto 5 answers a comparison with a number literal with a 500.
	pqAWS("select, a number filter", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND n >= 5`),
		"1 "+items(p1)),
	// moto 5 ignores begins_with (it answers every item of the partition).
	pqAWS("select, begins_with", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND begins_with(SK, ?)`, s("3")),
		"1 "+items(p3)),
	// moto 5 does not find "table"."index" ("Requested resource not
	// found"); DynamoDB reads the index: "SELECT * FROM
	// "TableName"."IndexName"" (ql-reference.select.html).
	pqAWS("select, GSI1", "PartiQLSelect", stmt(`SELECT * FROM TABLE."GSI1" WHERE GSI1PK = 'PG' AND GSI1SK > '1'`),
		"1 "+items(p2)),
	pq("select, no WHERE: a scan", "PartiQLSelect", stmt(`SELECT PK, SK FROM TABLE`)),
	pq("select, a scan with a filter", "PartiQLSelect", stmt(`SELECT * FROM TABLE WHERE v = 'one'`)),
	pq("select, a missing table", "PartiQLSelect", stmt(`SELECT * FROM "TABLE_missing" WHERE PK = 'P'`)),
	pq("update, SET", "PartiQLUpdate", then(
		stmt(`UPDATE TABLE SET v = ? WHERE PK = ? AND SK = ?`, s("uno"), s("P"), s("1")),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '1'`))),
	pq("update, SET two", "PartiQLUpdate", then(
		stmt(`UPDATE TABLE SET v = 'dos', w = 'zwei' WHERE PK = 'P' AND SK = '2'`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '2'`))),
	pq("update, REMOVE", "PartiQLUpdate", then(
		stmt(`UPDATE TABLE REMOVE n WHERE PK = 'P' AND SK = '1'`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '1'`))),
	// moto 5 answers arithmetic in SET with a 500.
	pqAWS("update, a counter", "PartiQLUpdate", then(
		stmt(`UPDATE TABLE SET c = c + ? WHERE PK = 'P' AND SK = '4'`, n("2")),
		stmt(`SELECT c FROM TABLE WHERE PK = 'P' AND SK = '4'`)),
		`0 [] then 1 [{"c":{"N":"3"}}]`,
		func(ctx context.Context, c *dynamodb.Client, table string) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("P", "4"),
				UpdateExpression: aws.String("ADD c :two"), ExpressionAttributeValues: item{":two": n("2")}})
			return err
		}),
	// moto 5 answers success and writes nothing. DynamoDB's UPDATE is
	// no upsert: the WHERE clause is the update's condition ("The
	// selection criteria for the item to be modified. This condition
	// must resolve to a single primary key value", ql-reference.update.html),
	// and an item that is not there fails it with
	// ConditionalCheckFailedException (the update reference names no
	// error for it; see writeStmt in partiql.go).
	pqAWS("update, a missing item", "PartiQLUpdate", then(
		stmt(`UPDATE TABLE SET v = 'x' WHERE PK = 'P' AND SK = '9'`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '9'`)),
		"error ConditionalCheckFailedException"),
	// moto 5 updates the items of the partition. DynamoDB: "This
	// condition must resolve to a single primary key value"
	// (ql-reference.update.html).
	pqAWS("update, not the whole key", "PartiQLUpdate", stmt(`UPDATE TABLE SET v = 'x' WHERE PK = 'P'`),
		"error ValidationException"),
	pq("delete", "PartiQLDelete", then(
		stmt(`DELETE FROM TABLE WHERE PK = 'P' AND SK = '3'`),
		stmt(`SELECT * FROM TABLE WHERE PK = 'P'`))),
	// "If the DynamoDB table does not have any item with the same
	// primary key as that of the item for which the DELETE is issued,
	// SUCCESS is returned with 0 items deleted."
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.delete.html
	pq("delete, a missing item", "PartiQLDelete", stmt(`DELETE FROM TABLE WHERE PK = 'P' AND SK = '3'`)),
	// moto 5 answers a DELETE with ? parameters with a 500.
	pqAWS("delete, parameters", "PartiQLDelete", then(
		stmt(`DELETE FROM TABLE WHERE PK = ? AND SK = ?`, s("P"), s("4")),
		stmt(`SELECT SK FROM TABLE WHERE PK = 'P'`)),
		`0 [] then 2 [{"SK":{"S":"1"}} {"SK":{"S":"2"}}]`,
		func(ctx context.Context, c *dynamodb.Client, table string) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("P", "4")})
			return err
		}),
	pq("batch, writes", "PartiQLUpdate", then(batch(
		`UPDATE TABLE SET v = 'b' WHERE PK = 'P' AND SK = '2'`,
		`INSERT INTO TABLE VALUE {'PK': 'Q', 'SK': '1'}`,
		`DELETE FROM TABLE WHERE PK = 'P' AND SK = '1'`),
		stmt(`SELECT PK, SK, v FROM TABLE`))),
	// moto 5 answers every SELECT of a batch with ResourceNotFound. The
	// API reference: a SELECT of a batch reads one item, by its whole key.
	// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html
	pqAWS("batch, reads", "PartiQLSelect", batch(
		`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '2'`,
		`SELECT * FROM TABLE WHERE PK = 'P' AND SK = '9'`,
		`SELECT * FROM TABLE WHERE PK = 'P'`,
		`SELECT * FROM "TABLE_missing" WHERE PK = 'P' AND SK = '1'`),
		`[{"GSI1PK":{"S":"PG"},"GSI1SK":{"S":"2"},"PK":{"S":"P"},"SK":{"S":"2"},"v":{"S":"b"},"w":{"S":"zwei"}}] [] error ValidationError error ResourceNotFound`),
	pq("transaction, writes", "PartiQLInsert", then(tx(
		`INSERT INTO TABLE VALUE {'PK': 'T', 'SK': '1', 'v': 'a'}`,
		`UPDATE TABLE SET v = 'c' WHERE PK = 'P' AND SK = '2'`,
		`DELETE FROM TABLE WHERE PK = 'Q' AND SK = '1'`),
		stmt(`SELECT PK, SK, v FROM TABLE`))),
	pq("transaction, reads", "PartiQLSelect", tx(
		`SELECT * FROM TABLE WHERE PK = 'T' AND SK = '1'`,
		`SELECT SK, v FROM TABLE WHERE PK = 'P' AND SK = '2'`)),
	// moto 5 runs the statements one by one, without a transaction.
	// "If any of the singleton INSERT, UPDATE, or DELETE operations
	// returns an error, the transactions are canceled with the
	// TransactionCanceledException exception, and the cancellation
	// reason code includes the errors from the individual singleton
	// operations."
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.multiplestatements.transactions.html
	pqAWS("transaction, an INSERT of a key that exists", "PartiQLInsert", tx(
		`UPDATE TABLE SET v = 'never' WHERE PK = 'P' AND SK = '2'`,
		`INSERT INTO TABLE VALUE {'PK': 'T', 'SK': '1'}`),
		"error TransactionCanceledException None,DuplicateItem"),
	// moto 5 has no EXISTS. EXISTS "can be used to check the condition
	// of specific attributes of the item in a similar manner to
	// ConditionCheck in the TransactWriteItems API operation"
	// (ql-reference.multiplestatements.transactions.html).
	pqAWS("transaction, EXISTS fails", "PartiQLSelect", tx(
		`EXISTS(SELECT * FROM TABLE WHERE PK = 'P' AND SK = '2' AND v = 'x')`,
		`UPDATE TABLE SET v = 'never' WHERE PK = 'T' AND SK = '1'`,
		`EXISTS(SELECT * FROM TABLE WHERE PK = 'P' AND SK = '9')`),
		"error TransactionCanceledException ConditionalCheckFailed,None,ConditionalCheckFailed"),
	pq("after the cancelled transactions", "PartiQLSelect", stmt(`SELECT PK, SK, v FROM TABLE`)),
}

// tx runs statements as one ExecuteTransaction and shows the items read.
func tx(statements ...string) func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
	return func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var in []types.ParameterizedStatement
		for _, st := range statements {
			in = append(in, types.ParameterizedStatement{Statement: aws.String(inTable(st, table))})
		}
		out, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: in})
		if err != nil {
			return "", err
		}
		var got []item
		for _, r := range out.Responses {
			got = append(got, r.Item)
		}
		return fmt.Sprint(len(out.Responses), " ", items(got...)), nil
	}
}

// batch runs statements as one BatchExecuteStatement and shows each
// answer.
func batch(statements ...string) func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
	return func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var in []types.BatchStatementRequest
		for _, st := range statements {
			in = append(in, types.BatchStatementRequest{Statement: aws.String(inTable(st, table))})
		}
		out, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: in})
		if err != nil {
			return "", err
		}
		var got []string
		for _, r := range out.Responses {
			switch {
			case r.Error != nil:
				got = append(got, "error "+string(r.Error.Code))
			case r.Item != nil:
				got = append(got, items(r.Item))
			default:
				got = append(got, "[]")
			}
		}
		return strings.Join(got, " "), nil
	}
}

// TestPartiQLSameAsMoto runs the PartiQL steps against the dev endpoint
// and moto (TestSameAsMoto's harness) and wants moto's answers, or
// DynamoDB's where a step says moto departs from it.
func TestPartiQLSameAsMoto(t *testing.T) {
	moto := ddbtest.Moto(t)
	dev := devBackend(t).Client
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	for _, c := range []*dynamodb.Client{dev, moto.Client} {
		if err := store.CreateTable(ctx, c, table); err != nil {
			t.Fatalf("creating %s: %v", table, err)
		}
	}
	for _, st := range pqSteps {
		t.Run(st.name, func(t *testing.T) {
			want := st.aws
			switch {
			case want == "":
				want = show(st.run(ctx, moto.Client, table))
			case st.onMoto != nil:
				if err := st.onMoto(ctx, moto.Client, table); err != nil {
					t.Fatalf("the step's write on moto: %v", err)
				}
			}
			got := show(st.run(ctx, dev, table))
			t.Logf("dev: %.300s", got)
			if got != want {
				t.Errorf("%s (%s):\ndev:  %.600s\nwant: %.600s", st.name, st.action, got, want)
			}
		})
	}
}

// TestPartiQLOutsideTheSubset: what the dev endpoint does not serve is a
// ValidationException that says it is lowfare dev's limit.
func TestPartiQLOutsideTheSubset(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{
		`SELECT * FROM TABLE WHERE PK = 'a' OR PK = 'b'`,
		`SELECT * FROM TABLE WHERE PK IN ['a', 'b']`,
		`SELECT * FROM TABLE WHERE attribute_type(v, 'S')`,
		`SELECT * FROM TABLE WHERE PK = 'a' ORDER BY SK DESC`,
		`SELECT a.b FROM TABLE WHERE PK = 'a'`,
		`UPDATE TABLE SET v = list_append(v, ?) WHERE PK = 'a' AND SK = 'b'`,
		`INSERT INTO TABLE VALUE {'PK': 'a', 'SK': 'b', 's': <<'x'>>}`,
	} {
		st = inTable(st, table)
		var params []types.AttributeValue
		for range strings.Count(st, "?") {
			params = append(params, &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x")}})
		}
		_, err := b.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(st), Parameters: params})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" || !strings.Contains(api.ErrorMessage(), "lowfare dev") {
			t.Errorf("%s: got %v, want a ValidationException naming lowfare dev's limit", st, err)
		}
	}
}

// TestPartiQLValidation: statements DynamoDB refuses that moto takes.
func TestPartiQLValidation(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stmt   string
		params []types.AttributeValue
		want   string
	}{
		// moto 5 answers [] for a missing parameter.
		{`SELECT * FROM TABLE WHERE PK = ?`, nil, "Number of parameters"},
		{`SELECT * FROM TABLE WHERE PK = ?`, []types.AttributeValue{s("a"), s("b")}, "Number of parameters"},
		// moto 5 answers a syntax error with a 500.
		{`SELEC * FROM TABLE`, nil, "well formed"},
		{`SELECT * FROM TABLE WHERE PK = 'unterminated`, nil, "unterminated"},
		{`DELETE FROM TABLE WHERE SK = 'a'`, nil, "mandatory equality"},
		{`INSERT INTO TABLE VALUE {'PK': 'a'}`, nil, ""},
		{`SELECT * FROM TABLE."nope" WHERE PK = 'a'`, nil, "index"},
		{`INSERT INTO TABLE VALUE {'PK': '', 'SK': 'b'}`, nil, "empty string"},
		// "The EXISTS function can only be used in transactions."
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-functions.exists.html
		{`EXISTS(SELECT * FROM TABLE WHERE PK = 'a' AND SK = 'b')`, nil, "transaction"},
	} {
		st := strings.ReplaceAll(tc.stmt, "TABLE", `"`+table+`"`)
		_, err := b.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(st), Parameters: tc.params})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" || !strings.Contains(api.ErrorMessage(), tc.want) {
			t.Errorf("%s: got %v, want a ValidationException saying %q", st, err, tc.want)
		}
	}
}

// TestPartiQLPages: Limit and NextToken page a SELECT as a Query pages
// (moto 5 does not page: "Pagination is not yet implemented").
func TestPartiQLPages(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := b.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
			Statement: aws.String(`INSERT INTO "` + table + `" VALUE {'PK': 'A', 'SK': ?}`), Parameters: []types.AttributeValue{s(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []string{`SELECT SK FROM "` + table + `" WHERE PK = 'A'`, `SELECT SK FROM "` + table + `"`} {
		var pages []string
		var next *string
		for range 10 {
			out, err := b.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(st), Limit: aws.Int32(2), NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			var sks []string
			for _, it := range out.Items {
				sks = append(sks, it["SK"].(*types.AttributeValueMemberS).Value)
			}
			pages = append(pages, strings.Join(sks, ","))
			if out.NextToken == nil {
				break
			}
			next = out.NextToken
		}
		// The last page is empty when the one before ended at the last item.
		if got := strings.TrimSuffix(strings.Join(pages, " | "), " | "); got != "0,1 | 2,3 | 4" {
			t.Errorf("%s: pages %q, want 0,1 | 2,3 | 4", st, got)
		}
	}
}

// TestPartiQLReturning: RETURNING answers the item as UpdateItem's and
// DeleteItem's ReturnValues do ("RETURNING ALL OLD *" returns the
// deleted item as Items, ql-reference.delete.html), and
// ReturnValuesOnConditionCheckFailure ALL_OLD puts the item into the
// ConditionalCheckFailedException.
func TestPartiQLReturning(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ stmt, want string }{
		{`INSERT INTO TABLE VALUE {'PK': 'R', 'SK': '1', 'v': 'a', 'w': 'b'}`, `0 []`},
		{`UPDATE TABLE SET v = 'c' WHERE PK = 'R' AND SK = '1' RETURNING MODIFIED OLD *`, `1 [{"v":{"S":"a"}}]`},
		{`UPDATE TABLE SET v = 'd' REMOVE w WHERE PK = 'R' AND SK = '1' RETURNING ALL NEW *`, `1 [{"PK":{"S":"R"},"SK":{"S":"1"},"v":{"S":"d"}}]`},
		{`DELETE FROM TABLE WHERE PK = 'R' AND SK = '1' RETURNING ALL OLD *`, `1 [{"PK":{"S":"R"},"SK":{"S":"1"},"v":{"S":"d"}}]`},
		{`DELETE FROM TABLE WHERE PK = 'R' AND SK = '1' RETURNING ALL OLD *`, `0 []`},
	} {
		if got := show(stmt(tc.stmt)(ctx, b.Client, table)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.stmt, got, tc.want)
		}
	}
	if _, err := stmt(`INSERT INTO TABLE VALUE {'PK': 'R', 'SK': '2', 'v': 'a'}`)(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	_, err := b.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
		Statement:                           aws.String(inTable(`UPDATE TABLE SET v = 'b' WHERE PK = 'R' AND SK = '2' AND v = 'x'`, table)),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("a failed condition: %v, want ConditionalCheckFailedException", err)
	}
	if got := items(ccf.Item); got != `[{"PK":{"S":"R"},"SK":{"S":"2"},"v":{"S":"a"}}]` {
		t.Errorf("a failed condition with ALL_OLD: item %s, want the item as it is", got)
	}
}
