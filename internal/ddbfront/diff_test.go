package ddbfront_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	miniserver "github.com/truora/minidyn/server"

	"github.com/lowfare/lowfare/internal/ddbfront"

	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// key is the table's key (store.TableInput: PK, SK).
func key(pk, sk string) item { return item{"PK": s(pk), "SK": s(sk)} }

func withAttrs(k item, kv ...any) item {
	out := item{}
	for a, v := range k {
		out[a] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return out
}

// big is a string attribute of size bytes.
func big(size int) types.AttributeValue { return s(strings.Repeat("x", size)) }

// step is one call; it returns what matters of the answer as text, so
// two endpoints' answers compare with ==.
type step struct {
	name string
	// action is the table.access action the step exercises
	// (internal/stack TableActions), for the coverage check.
	action string
	run    func(ctx context.Context, c *dynamodb.Client, table string) (string, error)
}

// show is an answer's text: the error's DynamoDB type (and the
// cancellation reasons of a cancelled transaction), or the items.
func show(out string, err error) string {
	if err == nil {
		return out
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		codes := make([]string, len(tce.CancellationReasons))
		for i, r := range tce.CancellationReasons {
			codes[i] = aws.ToString(r.Code)
		}
		return "error TransactionCanceledException " + strings.Join(codes, ",")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return "error " + api.ErrorCode()
	}
	return "error " + err.Error()
}

func items(list ...item) string {
	var out []string
	for _, it := range list {
		b, err := data.EncodeItem(it)
		if err != nil {
			return "unencodable: " + err.Error()
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

// Where moto, not minidyn, departs from DynamoDB there is no step: moto 5
// takes an N for a GSI key defined as S, keeps numbers as written ("1.50";
// DynamoDB and minidyn answer "1.5") and takes unused
// ExpressionAttributeValues, takes a BatchWriteItem of more than 25, and
// answers a condition with a syntax error and a Query with Limit 0 with a
// 500 (TestValidation), and takes a string set with one member twice.
//
// steps run in order on one table: each sees what the ones before wrote.
var steps = []step{
	{"describe", "DescribeTable", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return "", err
		}
		var ks []string
		for _, k := range out.Table.KeySchema {
			ks = append(ks, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		var gsis []string
		for _, g := range out.Table.GlobalSecondaryIndexes {
			gsis = append(gsis, aws.ToString(g.IndexName))
		}
		return fmt.Sprint(aws.ToString(out.Table.TableName) == table, ks, gsis), nil
	}},
	{"put new, no ReturnValues", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("A", "1"), "v", s("one"), "GSI1PK", s("G"), "GSI1SK", s("1"))})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"put replace, ALL_OLD", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), ReturnValues: types.ReturnValueAllOld,
			Item: withAttrs(key("A", "1"), "v", s("two"), "n", n("1"), "GSI1PK", s("G"), "GSI1SK", s("1"))})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"put new, ALL_OLD", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), ReturnValues: types.ReturnValueAllOld,
			Item: withAttrs(key("A", "2"), "v", s("x"), "GSI1PK", s("G"), "GSI1SK", s("2"))})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(out.Attributes)), nil
	}},
	{"put, condition fails", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("A", "1"),
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		return "ok", err
	}},
	{"put over 400 KB", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("B", "1"), "blob", big(ddbfront.MaxItemSize+10))})
		return "ok", err
	}},
	{"put 300 KB", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("B", "2"), "blob", big(300*1024))})
		return "ok", err
	}},
	{"get", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("A", "1"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return items(out.Item), nil
	}},
	{"get missing", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("none", "1")})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Item == nil), nil
	}},
	{"update, no ReturnValues", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"),
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": s("three")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update, ALL_NEW", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueAllNew,
			UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: item{":one": n("1")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update, ALL_OLD", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueAllOld,
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": s("four")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update, UPDATED_NEW", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueUpdatedNew,
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": s("five")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update, UPDATED_OLD", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueUpdatedOld,
			UpdateExpression: aws.String("SET v = :v, w = :w"), ExpressionAttributeValues: item{":v": s("five"), ":w": s("new")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update creates the item, no ReturnValues", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "3"),
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": s("new")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"update, condition fails, ALL_OLD on failure", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "3"),
			UpdateExpression: aws.String("SET v = :v"), ConditionExpression: aws.String("attribute_not_exists(PK)"),
			ExpressionAttributeValues: item{":v": s("x")}, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return "error ConditionalCheckFailedException " + items(ccf.Item), nil
		}
		return "ok", err
	}},
	{"update, condition fails", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"),
			UpdateExpression: aws.String("SET v = :v"), ConditionExpression: aws.String("v = :old"),
			ExpressionAttributeValues: item{":v": s("six"), ":old": s("nope")}})
		return "ok", err
	}},
	{"update past 400 KB", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("B", "2"),
			UpdateExpression: aws.String("SET more = :m"), ExpressionAttributeValues: item{":m": big(150 * 1024)}})
		return "ok", err
	}},
	{"get after refused update", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("B", "2"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		_, has := out.Item["more"]
		return fmt.Sprint(len(out.Item), has), nil
	}},
	{"batch write", "BatchWriteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var reqs []types.WriteRequest
		for _, sk := range []string{"1", "2", "3"} {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: withAttrs(key("C", sk), "GSI1PK", s("G"), "GSI1SK", s("c"+sk))}})
		}
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key("B", "2")}})
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(out.UnprocessedItems)), nil
	}},
	{"batch write over 400 KB", "BatchWriteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
			// The large item first: moto 5 writes the items before it
			// and then refuses; DynamoDB refuses the whole batch.
			{PutRequest: &types.PutRequest{Item: withAttrs(key("D", "2"), "blob", big(ddbfront.MaxItemSize+10))}},
			{PutRequest: &types.PutRequest{Item: key("D", "1")}},
		}}})
		return "ok", err
	}},
	{"batch get", "BatchGetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {
			Keys: []item{key("C", "1"), key("C", "3"), key("D", "1"), key("B", "2")}, ConsistentRead: aws.Bool(true)}}})
		if err != nil {
			return "", err
		}
		return items(out.Responses[table]...), nil
	}},
	{"query", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk AND SK > :sk"),
			ExpressionAttributeValues: item{":pk": s("C"), ":sk": s("1")}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count, " ", items(out.Items...)), nil
	}},
	{"query GSI1", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String(store.IndexGSI1),
			KeyConditionExpression: aws.String("GSI1PK = :g AND begins_with(GSI1SK, :c)"), ExpressionAttributeValues: item{":g": s("G"), ":c": s("c")}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count, " ", items(out.Items...)), nil
	}},
	{"query backwards, a page at a time", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var pages []string
		var start item
		for range 5 {
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
				ExpressionAttributeValues: item{":pk": s("C")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2), ExclusiveStartKey: start})
			if err != nil {
				return "", err
			}
			var sks []string
			for _, it := range out.Items {
				sks = append(sks, it["SK"].(*types.AttributeValueMemberS).Value)
			}
			pages = append(pages, strings.Join(sks, ","))
			if out.LastEvaluatedKey == nil {
				break
			}
			start = out.LastEvaluatedKey
		}
		return strings.Join(pages, " | "), nil
	}},
	{"update REMOVE", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("C", "3"), ReturnValues: types.ReturnValueAllNew,
			UpdateExpression: aws.String("REMOVE GSI1PK, #s"), ExpressionAttributeNames: map[string]string{"#s": "GSI1SK"}})
		if err != nil {
			return "", err
		}
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("C", "3"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return items(out.Attributes) + " " + items(got.Item), nil
	}},
	{"update SET and REMOVE", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueUpdatedNew,
			UpdateExpression: aws.String("SET v = :v REMOVE w"), ExpressionAttributeValues: item{":v": s("six")}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"scan", "Scan", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count, " ", items(out.Items...)), nil
	}},
	{"transaction, one condition fails", "ConditionCheckItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: key("E", "1")}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("A", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Delete: &types.Delete{TableName: aws.String(table), Key: key("C", "1")}},
		}})
		return "ok", err
	}},
	{"transaction, two conditions fail", "ConditionCheckItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("A", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Put: &types.Put{TableName: aws.String(table), Item: key("E", "2")}},
			{Delete: &types.Delete{TableName: aws.String(table), Key: key("C", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Update: &types.Update{TableName: aws.String(table), Key: key("C", "3"), UpdateExpression: aws.String("SET t = :t"),
				ConditionExpression: aws.String("t = :t"), ExpressionAttributeValues: item{":t": s("x")}}},
			{Put: &types.Put{TableName: aws.String(table), Item: key("A", "2"), ConditionExpression: aws.String("attribute_exists(PK)")}},
		}})
		return "ok", err
	}},
	{"condition check, ALL_OLD on failure", "ConditionCheckItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("C", "2"), ConditionExpression: aws.String("attribute_not_exists(PK)"),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		}})
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && len(tce.CancellationReasons) == 1 {
			return show("", err) + " " + items(tce.CancellationReasons[0].Item), nil
		}
		return "ok", err
	}},
	{"transaction applied", "ConditionCheckItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: key("E", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("A", "1"), ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Update: &types.Update{TableName: aws.String(table), Key: key("C", "1"), UpdateExpression: aws.String("SET t = :t"), ExpressionAttributeValues: item{":t": s("x")}}},
		}})
		if err != nil {
			return "", err
		}
		out, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(table), Key: key("E", "1")}},
			{Get: &types.Get{TableName: aws.String(table), Key: key("C", "1")}},
		}})
		if err != nil {
			return "", err
		}
		var got []item
		for _, r := range out.Responses {
			got = append(got, r.Item)
		}
		return items(got...), nil
	}},
	{"transaction put over 400 KB", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: withAttrs(key("F", "1"), "blob", big(ddbfront.MaxItemSize+10))}},
		}})
		return "ok", err
	}},
	{"put without its sort key", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"PK": s("H")}})
		return "ok", err
	}},
	{"put with an empty key", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("", "1")})
		return "ok", err
	}},
	{"put with a number key", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"PK": s("H"), "SK": n("1")}})
		return "ok", err
	}},
	{"put with an empty string", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("H", "3"), "e", s(""))})
		return "ok", err
	}},
	{"put, condition fails, ALL_OLD on failure", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("H", "3"), ConditionExpression: aws.String("attribute_not_exists(PK)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		return "ok", err
	}},
	{"consistent query on GSI1", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String(store.IndexGSI1), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("GSI1PK = :g"), ExpressionAttributeValues: item{":g": s("G")}})
		return "ok", err
	}},
	{"scan, filter and count", "Scan", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount,
			FilterExpression: aws.String("begins_with(SK, :one)"), ExpressionAttributeValues: item{":one": s("1")}})
		if err != nil {
			return "", err
		}
		// Items are not compared: moto 5 sends them (TestSelectCount).
		return fmt.Sprint(out.Count, out.ScannedCount), nil
	}},
	{"batch write with an empty key", "BatchWriteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
			{PutRequest: &types.PutRequest{Item: key("J", "")}},
		}}})
		return "ok", err
	}},
	{"batch write, one key twice", "BatchWriteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
			{PutRequest: &types.PutRequest{Item: key("J", "1")}},
			{DeleteRequest: &types.DeleteRequest{Key: key("J", "1")}},
		}}})
		return "ok", err
	}},
	{"transaction, one item twice", "ConditionCheckItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("A", "1"), ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Update: &types.Update{TableName: aws.String(table), Key: key("A", "1"), UpdateExpression: aws.String("SET t = :t"), ExpressionAttributeValues: item{":t": s("x")}}},
		}})
		return "ok", err
	}},
	{"transaction put with an empty key", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: key("", "x")}},
		}})
		return "ok", err
	}},
	{"batch get, one key twice", "BatchGetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {
			Keys: []item{key("C", "1"), key("C", "1")}}}})
		return "ok", err
	}},
	{"update a key attribute", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"),
			UpdateExpression: aws.String("SET SK = :x"), ExpressionAttributeValues: item{":x": s("9")}})
		return "ok", err
	}},
	{"put, ReturnValues ALL_NEW", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("L", "1"), ReturnValues: types.ReturnValueAllNew})
		return "ok", err
	}},
	{"delete, ReturnValues ALL_NEW", "DeleteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("L", "1"), ReturnValues: types.ReturnValueAllNew})
		return "ok", err
	}},
	{"get from a missing table", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table + "_missing"), Key: key("A", "1")})
		return "ok", err
	}},
	{"query without the partition key", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("SK = :s"),
			ExpressionAttributeValues: item{":s": s("1")}})
		return "ok", err
	}},
	{"scan, a page at a time", "Scan", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var start item
		pages, total := 0, 0
		for range 50 {
			out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(3), ExclusiveStartKey: start})
			if err != nil {
				return "", err
			}
			pages++
			total += len(out.Items)
			if out.LastEvaluatedKey == nil {
				break
			}
			start = out.LastEvaluatedKey
		}
		return fmt.Sprint(pages, total), nil
	}},
	{"get, projection with names", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("A", "1"),
			ProjectionExpression: aws.String("#v, n, missing"), ExpressionAttributeNames: map[string]string{"#v": "v"}})
		if err != nil {
			return "", err
		}
		return items(out.Item), nil
	}},
	{"query, filter and projection", "Query", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
			FilterExpression: aws.String("attribute_exists(t) OR SK = :three"), ProjectionExpression: aws.String("SK, t"),
			ExpressionAttributeValues: item{":pk": s("C"), ":three": s("3")}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count, out.ScannedCount, " ", items(out.Items...)), nil
	}},
	{"batch get, projection and a missing key", "BatchGetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {
			Keys: []item{key("A", "1"), key("Z", "9")}, ProjectionExpression: aws.String("SK, v")}}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(out.UnprocessedKeys), " ", items(out.Responses[table]...)), nil
	}},
	{"transaction get, a missing item", "GetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(table), Key: key("Z", "9")}},
			// No ProjectionExpression: moto 5 ignores it here.
			{Get: &types.Get{TableName: aws.String(table), Key: key("A", "1")}},
		}})
		if err != nil {
			return "", err
		}
		var got []string
		for _, r := range out.Responses {
			got = append(got, items(r.Item))
		}
		return fmt.Sprint(len(out.Responses), got), nil
	}},
	{"update, ADD to a set and DELETE from it", "UpdateItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"),
			UpdateExpression: aws.String("ADD tags :t"), ExpressionAttributeValues: item{":t": &types.AttributeValueMemberSS{Value: []string{"a", "b", "c"}}}}); err != nil {
			return "", err
		}
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"), ReturnValues: types.ReturnValueUpdatedNew,
			UpdateExpression: aws.String("DELETE tags :t SET c = if_not_exists(c, :zero) + :one, l = list_append(if_not_exists(l, :empty), :l)"),
			ExpressionAttributeValues: item{":t": &types.AttributeValueMemberSS{Value: []string{"b"}}, ":zero": n("0"), ":one": n("1"),
				":empty": &types.AttributeValueMemberL{}, ":l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x")}}}})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"transaction of 101", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var ops []types.TransactWriteItem
		for i := range 101 {
			ops = append(ops, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: key("M", fmt.Sprint(i))}})
		}
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		return "ok", err
	}},
	{"batch get of 101", "BatchGetItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		var keys []item
		for i := range 101 {
			keys = append(keys, key("M", fmt.Sprint(i)))
		}
		_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: keys}}})
		return "ok", err
	}},
	{"put, an empty set", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("N", "2"), "ss", &types.AttributeValueMemberSS{Value: []string{}})})
		return "ok", err
	}},
	{"put, a number of 39 digits", "PutItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("N", "3"), "n", n(strings.Repeat("9", 39)))})
		return "ok", err
	}},
	{"delete, no ReturnValues", "DeleteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("C", "2")})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(out.Attributes)), nil
	}},
	{"delete, ALL_OLD", "DeleteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		out, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("A", "2"), ReturnValues: types.ReturnValueAllOld})
		if err != nil {
			return "", err
		}
		return items(out.Attributes), nil
	}},
	{"delete, condition fails", "DeleteItem", func(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("A", "1"), ConditionExpression: aws.String("attribute_not_exists(PK)")})
		return "ok", err
	}},
}

// TestSameAsMoto runs the steps against the dev endpoint (minidyn behind
// the front, as lowfare dev serves it) and against moto, and wants the
// same answers. moto stands in for DynamoDB: it is the closest model
// that runs here. CI has moto (LOWFARE_REQUIRE_MOTO=1: no skip).
func TestSameAsMoto(t *testing.T) {
	moto := ddbtest.Moto(t)
	dev := devBackend(t).Client

	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	for _, c := range []*dynamodb.Client{dev, moto.Client} {
		if err := store.CreateTable(ctx, c, table); err != nil {
			t.Fatalf("creating %s: %v", table, err)
		}
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			want := show(st.run(ctx, moto.Client, table))
			got := show(st.run(ctx, dev, table))
			if got != want {
				t.Errorf("%s (%s):\ndev:  %.600s\nmoto: %.600s", st.name, st.action, got, want)
			}
		})
	}
}

// TestStepsCoverTableAccess wants a step for every DynamoDB action
// table.access grants, so a new grant comes with a differential step.
func TestStepsCoverTableAccess(t *testing.T) {
	covered := map[string]bool{}
	for _, st := range steps {
		covered[st.action] = true
	}
	for _, st := range pqSteps {
		covered[st.action] = true
	}
	for _, a := range stack.TableActions(spec.AccessReadWrite) {
		if !covered[strings.TrimPrefix(a, "dynamodb:")] {
			t.Errorf("no differential step for %s, which table.access grants", a)
		}
	}
}

// TestTransactUpdateTooLarge: an update that takes its item past 400 KB
// cancels the transaction with a ValidationError reason for that item
// and writes nothing (the AWS API reference; moto 5 answers a
// ValidationException instead, so this is no differential step).
func TestTransactUpdateTooLarge(t *testing.T) {
	srv := httptest.NewServer(ddbfront.Handler(miniserver.NewServer()))
	t.Cleanup(srv.Close)
	c := ddbtest.NewClient(srv.URL)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, c, table); err != nil {
		t.Fatal(err)
	}
	got, err := transactUpdateTooLarge(ctx, c, table)
	if err != nil {
		t.Fatal(err)
	}
	want := `error TransactionCanceledException None,ValidationError [{"PK":{"S":"G"},"SK":{"S":"1"}}]`
	if got != want {
		t.Errorf("got  %.300s\nwant %s", got, want)
	}
}

func transactUpdateTooLarge(ctx context.Context, c *dynamodb.Client, table string) (string, error) {
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("G", "1"), "blob", big(300*1024))}); err != nil {
		return "", err
	}
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(table), Item: key("G", "2")}},
		{Update: &types.Update{TableName: aws.String(table), Key: key("G", "1"), UpdateExpression: aws.String("SET more = :m"),
			ExpressionAttributeValues: item{":m": big(150 * 1024)}}},
	}})
	out, gerr := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :g"),
		ExpressionAttributeValues: item{":g": s("G")}, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("PK, SK, more")})
	if gerr != nil {
		return "", gerr
	}
	return show("ok", err) + " " + items(out.Items...), nil
}

// TestSelectCount: Select COUNT answers "the number of matching items,
// rather than the matching items themselves" (Select in
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html);
// minidyn sends the items too, and so does moto 5.
func TestSelectCount(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"1", "2"} {
		if _, err := b.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("A", sk)}); err != nil {
			t.Fatal(err)
		}
	}
	scan, err := b.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	query, err := b.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), Select: types.SelectCount,
		KeyConditionExpression: aws.String("PK = :a"), ExpressionAttributeValues: item{":a": s("A")}})
	if err != nil {
		t.Fatal(err)
	}
	if scan.Count != 2 || len(scan.Items) != 0 || query.Count != 2 || len(query.Items) != 0 {
		t.Errorf("Select COUNT: scan Count %d with %d items, query Count %d with %d items; want 2 with none",
			scan.Count, len(scan.Items), query.Count, len(query.Items))
	}
}

// TestValidation: requests DynamoDB refuses that moto cannot be asked.
func TestValidation(t *testing.T) {
	b := devBackend(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.TableName(t)
	if err := store.CreateTable(ctx, b.Client, table); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"query, limit 0", func() error {
			_, err := b.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
				ExpressionAttributeValues: item{":pk": s("C")}, Limit: aws.Int32(0)})
			return err
		}},
		{"scan, limit 0", func() error {
			_, err := b.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(0)})
			return err
		}},
		{"update, an empty set", func() error {
			_, err := b.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("A", "1"),
				UpdateExpression: aws.String("SET ss = :s"), ExpressionAttributeValues: item{":s": &types.AttributeValueMemberSS{Value: []string{}}}})
			return err
		}},
		{"put, an empty set in a map", func() error {
			_, err := b.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(key("A", "2"),
				"m", &types.AttributeValueMemberM{Value: item{"ns": &types.AttributeValueMemberNS{Value: []string{}}}})})
			return err
		}},
	} {
		if got := show("ok", tc.run()); got != "error ValidationException" {
			t.Errorf("%s: %s, want a ValidationException", tc.name, got)
		}
	}
}

// devBackend starts the endpoint lowfare dev gives an app, for the test's
// lifetime: an in-process minidyn behind ddbfront, which answers like
// DynamoDB where minidyn alone does not (checksum header, item size
// limit, ReturnValues, cancellation reasons).
func devBackend(t testing.TB) ddbtest.Backend {
	t.Helper()
	mini := miniserver.NewServer()
	srv := httptest.NewServer(ddbfront.Handler(mini))
	t.Cleanup(srv.Close)
	return ddbtest.Backend{
		Name:     "dev",
		Minidyn:  mini,
		Endpoint: srv.URL,
		Client:   ddbtest.NewClient(srv.URL),
	}
}
