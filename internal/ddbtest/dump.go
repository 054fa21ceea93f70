package ddbtest

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Dump scans every item of table and returns each one as encode writes
// it, sorted, so two tables (or one table before and after) compare with
// slices.Equal whatever order the endpoint scans in. encode is the
// caller's item encoding (internal/data's EncodeItem, typically: this
// package cannot import data, whose tests import it).
func Dump(t testing.TB, c *dynamodb.Client, table string, encode func(map[string]types.AttributeValue) ([]byte, error)) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(Context(t))
		if err != nil {
			t.Fatalf("Scan %s: %v", table, err)
		}
		for _, item := range page.Items {
			b, err := encode(item)
			if err != nil {
				t.Fatalf("encoding an item of %s: %v", table, err)
			}
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out
}
