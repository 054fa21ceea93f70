package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/lowfare/lowfare/internal/wait"
)

// TableWaitTimeout bounds how long CreateTable waits for the table to
// become ACTIVE.
const TableWaitTimeout = 2 * time.Minute

// CreateTable creates table with the key schema the CloudFormation template
// uses (PK/SK strings, GSI1 on GSI1PK/GSI1SK with projection ALL, TTL on
// expires_at) when it does not exist, and waits until it is ACTIVE. It is
// meant for local endpoints (lowfare dev, links --create-table, tests):
// deployed tables come from the template. The table is on-demand, which
// costs nothing while idle; the template chooses the deployed capacity.
func CreateTable(ctx context.Context, ddb *dynamodb.Client, table string) error {
	_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		return waitActive(ctx, ddb, table)
	case !errors.As(err, &notFound):
		return fmt.Errorf("checking whether table %s exists: %w", table, err)
	}
	_, err = ddb.CreateTable(ctx, TableInput(table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) { // in use: someone else just created it
		return fmt.Errorf("creating table %s: %w", table, err)
	}
	if err := waitActive(ctx, ddb, table); err != nil {
		return err
	}
	// TTL is best effort: minidyn and dynalite have no UpdateTimeToLive, and
	// nothing breaks without it (expired day buckets simply stay).
	_, _ = ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	return nil
}

// TableInput is the CreateTable request of the links table: the single
// source of its key schema for code that creates it through the API.
func TableInput(table string) *dynamodb.CreateTableInput {
	str := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: str},
			{AttributeName: aws.String(attrSK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1PK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1SK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// waitActive polls until the table and its indexes are ACTIVE.
func waitActive(ctx context.Context, ddb *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, TableWaitTimeout)
	defer cancel()
	for pause := 20 * time.Millisecond; ; pause = min(pause*2, time.Second) {
		out, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			return fmt.Errorf("waiting for table %s: %w", table, err)
		}
		if active(out.Table) {
			return nil
		}
		if err := wait.Sleep(ctx, pause); err != nil {
			return fmt.Errorf("table %s is not ACTIVE after %s: %w", table, TableWaitTimeout, err)
		}
	}
}

// active treats a missing status as ACTIVE: minidyn reports none, and
// its tables are usable at once.
func active(t *types.TableDescription) bool {
	if t == nil || (t.TableStatus != "" && t.TableStatus != types.TableStatusActive) {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
