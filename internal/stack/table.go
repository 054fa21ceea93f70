package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// The table's key schema; internal/links/store creates the same one for
// `lowfare dev` (see its TableInput).
const (
	TableHashKey  = "PK"
	TableRangeKey = "SK"
	IndexName     = "GSI1"
	IndexHashKey  = "GSI1PK"
	IndexRangeKey = "GSI1SK"
	TTLAttribute  = "expires_at"
)

// table is the DynamoDB single table: PK/SK and GSI1, TTL on expires_at,
// provisioned inside the always-free 25/25 by default or on-demand. It is
// retained when the stack is deleted or the table replaced: data outlives
// infrastructure.
//
// Encryption at rest is always on: without an SSESpecification DynamoDB
// uses an AWS owned key at no charge, while SSEEnabled: true switches to
// the AWS managed key (aws/dynamodb), whose KMS requests are billed
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html).
func (b *builder) table() {
	s := b.s
	provisioned := s.Table.Billing == spec.BillingProvisioned
	throughput := map[string]any{"ReadCapacityUnits": s.Table.Read, "WriteCapacityUnits": s.Table.Write}

	index := map[string]any{
		"IndexName": IndexName,
		"KeySchema": []any{
			map[string]any{"AttributeName": IndexHashKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": IndexRangeKey, "KeyType": "RANGE"},
		},
		"Projection": map[string]any{"ProjectionType": "ALL"},
	}
	props := cfn.Props{
		"AttributeDefinitions": []any{
			attr(TableHashKey), attr(TableRangeKey), attr(IndexHashKey), attr(IndexRangeKey),
		},
		"KeySchema": []any{
			map[string]any{"AttributeName": TableHashKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": TableRangeKey, "KeyType": "RANGE"},
		},
		"GlobalSecondaryIndexes": []any{index},
		"TimeToLiveSpecification": map[string]any{
			"AttributeName": TTLAttribute,
			"Enabled":       true,
		},
	}
	if provisioned {
		props["BillingMode"] = "PROVISIONED"
		props["ProvisionedThroughput"] = throughput
		index["ProvisionedThroughput"] = throughput
	} else {
		props["BillingMode"] = "PAY_PER_REQUEST"
	}
	if s.Table.PITR || s.Profile == spec.ProfileHA {
		props["PointInTimeRecoverySpecification"] = map[string]any{"PointInTimeRecoveryEnabled": true}
	}
	if s.Profile == spec.ProfileHA {
		props["DeletionProtectionEnabled"] = true
	}
	t := b.add(PartTable, "Table", "AWS::DynamoDB::Table", props)
	// RetainExceptOnCreate keeps the table when the stack is deleted, but
	// deletes it when the stack's first create rolls back, so a failed
	// first deploy leaves no orphan (plain Retain would). It is valid for
	// DeletionPolicy only; UpdateReplacePolicy takes Delete, Retain or
	// Snapshot, and a replaced table is kept
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html,
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html).
	t.DeletionPolicy = "RetainExceptOnCreate"
	t.UpdateReplacePolicy = "Retain"
	b.output(OutputTable, "The DynamoDB table", cfn.Ref("Table"))
}

func attr(name string) map[string]any {
	return map[string]any{"AttributeName": name, "AttributeType": "S"}
}
