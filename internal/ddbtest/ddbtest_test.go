package ddbtest

import (
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTableNamesAreValidAndUnique(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	seen := map[string]bool{}
	for range 100 {
		n := TableName(t)
		if !valid.MatchString(n) {
			t.Fatalf("table name %q is not valid for DynamoDB", n)
		}
		if seen[n] {
			t.Fatalf("table name %q repeated", n)
		}
		seen[n] = true
	}
}

// Every backend answers the real wire protocol: a missing table is the
// SDK's typed ResourceNotFoundException.
func TestBackendsSpeakDynamoDB(t *testing.T) {
	ForEach(t, func(t *testing.T, b Backend) {
		_, err := b.Client.DescribeTable(Context(t), &dynamodb.DescribeTableInput{TableName: aws.String(TableName(t))})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("%s: DescribeTable of a missing table: %v, want ResourceNotFoundException", b.Name, err)
		}
	})
}

func TestMissingDynaliteIsASkipWithAReason(t *testing.T) {
	t.Setenv(envURL, "")
	t.Setenv(envBin, "/nonexistent/dynalite")
	b := dynaliteBackend(t)
	if b.Client != nil || !regexp.MustCompile(`DYNALITE_BIN=/nonexistent/dynalite`).MatchString(b.SkipReason) {
		t.Fatalf("backend %+v; want no client and a reason naming DYNALITE_BIN", b)
	}
}
