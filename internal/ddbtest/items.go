package ddbtest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// GetItem reads the item PK=pk, SK=sk of table with a consistent read; nil
// when there is none. Any error fails the test.
func GetItem(t testing.TB, b Backend, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := b.Client.GetItem(Context(t), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		t.Fatalf("GetItem %s/%s: %v", pk, sk, err)
	}
	return out.Item
}

// PutItem writes item to table as it is; any error fails the test.
func PutItem(t testing.TB, b Backend, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := b.Client.PutItem(Context(t), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}
