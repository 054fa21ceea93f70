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

// table is the DynamoDB single table: PK/SK and GSI1, encrypted, TTL on
// expires_at, provisioned inside the always-free 25/25 by default or
// on-demand. It is retained when the stack is deleted or the table
// replaced: data outlives infrastructure.
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
		"SSESpecification":       map[string]any{"SSEEnabled": true},
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
	t.DeletionPolicy = "Retain"
	t.UpdateReplacePolicy = "Retain"
	b.output(OutputTable, "The DynamoDB table", cfn.Ref("Table"))
}

func attr(name string) map[string]any {
	return map[string]any{"AttributeName": name, "AttributeType": "S"}
}
