package ops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// TableAPI is the part of the DynamoDB client that finds and deletes the
// app's table; *dynamodb.Client implements it.
type TableAPI interface {
	ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// Table is the app's DynamoDB table as destroy needs it.
type Table struct {
	Name string
	// DeletionProtection is on for profile ha: DeleteTable fails until it
	// is turned off.
	DeletionProtection bool
}

// TablePrefix is how the app's table is named: the template gives it no
// TableName, so CloudFormation generates "<stack>-<logical ID>-<suffix>",
// and the table keeps that name after a Retain lets it outlive the stack.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
func TablePrefix(s *spec.Spec) string {
	return s.StackName() + "-" + OutputResources[stack.OutputTable] + "-"
}

// AppTables finds the app's tables by name: known (from the stack, when it
// still exists; may be empty) and every table whose name starts with
// TablePrefix, so a table the stack retained is found after the stack is
// gone. Each is described for its deletion protection.
func AppTables(ctx context.Context, ddb TableAPI, s *spec.Spec, known string) ([]Table, error) {
	var names []string
	if known != "" {
		names = append(names, known)
	}
	prefix := TablePrefix(s)
	in := &dynamodb.ListTablesInput{}
	for {
		out, err := call(ctx, func(ctx context.Context) (*dynamodb.ListTablesOutput, error) { return ddb.ListTables(ctx, in) })
		if err != nil {
			return nil, fmt.Errorf("listing DynamoDB tables to find %s*: %w", prefix, err)
		}
		for _, n := range out.TableNames {
			if strings.HasPrefix(n, prefix) && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		if aws.ToString(out.LastEvaluatedTableName) == "" {
			break
		}
		in.ExclusiveStartTableName = out.LastEvaluatedTableName
	}
	var tables []Table
	for _, n := range names {
		out, err := call(ctx, func(ctx context.Context) (*dynamodb.DescribeTableOutput, error) {
			return ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n)})
		})
		if awsconf.IsResourceNotFound(err) {
			continue // the stack's output named a table already gone
		}
		if err != nil {
			return nil, fmt.Errorf("describing table %s: %w", n, err)
		}
		tables = append(tables, Table{Name: n, DeletionProtection: aws.ToBool(out.Table.DeletionProtectionEnabled)})
	}
	return tables, nil
}

// CheckDeletable refuses tables with deletion protection, before anything
// is deleted: DeleteTable would fail on them only after the stacks are gone.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection
func CheckDeletable(tables []Table) error {
	for _, t := range tables {
		if t.DeletionProtection {
			return fmt.Errorf("table %s has deletion protection on (profile ha), so --delete-data would fail after the stacks are gone: nothing was deleted. Turn it off with 'aws dynamodb update-table --table-name %s --no-deletion-protection-enabled' and run destroy --delete-data again, or run destroy without --delete-data to keep the table", t.Name, t.Name)
		}
	}
	return nil
}

// DeleteTable deletes one table.
func DeleteTable(ctx context.Context, ddb TableAPI, name string) error {
	_, err := call(ctx, func(ctx context.Context) (*dynamodb.DeleteTableOutput, error) {
		return ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	if err != nil {
		return fmt.Errorf("deleting table %s: %w", name, err)
	}
	return nil
}
