package links

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/links/store"
)

// Migrations is the links table's history of data migrations, oldest
// first, for data.Migrator (which is generic: it knows nothing of links'
// items). Append; never renumber or remove one that has shipped.
func Migrations() []data.Migration {
	return []data.Migration{
		{ID: 1, Name: "backfill-gsi1-keys", Up: backfillGSI1},
		{ID: 2, Name: "backfill-day-expiry", Up: backfillDayExpiry},
	}
}

// The key layout of the links items these migrations touch, as
// internal/links/store writes them (see docs/data-model.md). The GSI1 keys
// and the click retention come from the store itself; the tests check
// these plain key parts against items the store wrote.
const (
	linksMetaSK    = "META"
	linksDayPrefix = "DAY#"
	linksDayLayout = "2006-01-02"
	// linksExpiresAttr is the table's TTL attribute (stack's table part).
	linksExpiresAttr = "expires_at"
)

// backfillGSI1 gives link (META) items without GSI1 keys the keys the
// newest-first listing needs. Links written by hand, by a script, or
// imported from another tool lack them and so never show in the list,
// though their redirects work. Items already keyed are left alone (the
// update is conditional), so the migration is idempotent.
func backfillGSI1(ctx context.Context, m *data.Migrator) error {
	return m.Scan(ctx, "#sk = :meta AND attribute_not_exists(#g1pk)",
		map[string]string{"#sk": "SK", "#g1pk": "GSI1PK"},
		map[string]types.AttributeValue{":meta": sAttr(linksMetaSK)},
		func(item map[string]types.AttributeValue) error {
			pk := stringAttr(item, "PK")
			slug, ok := strings.CutPrefix(pk, "LINK#")
			if !ok {
				return nil // not a link
			}
			created, err := time.Parse(time.RFC3339Nano, stringAttr(item, "created_at"))
			if err != nil {
				m.Logf("warning: link %q has no valid created_at (%q), so it cannot be placed in the listing; fix it by hand", slug, stringAttr(item, "created_at"))
				return nil
			}
			// A put of the item as read plus its keys, not an UpdateItem
			// SET: META items never change after they are written, so
			// nothing is lost, and minidyn (lowfare dev) drops the other
			// entries of an index when an update adds an item to it.
			item["GSI1PK"] = sAttr(store.GSI1PartitionKey)
			item["GSI1SK"] = sAttr(store.GSI1SortKey(created, slug))
			_, err = m.Put(ctx, &dynamodb.PutItemInput{
				Item:                     item,
				ConditionExpression:      aws.String("attribute_exists(PK) AND attribute_not_exists(#g1pk)"),
				ExpressionAttributeNames: map[string]string{"#g1pk": "GSI1PK"},
			}, 2*data.ItemWriteUnits(item))
			return err
		})
}

// backfillDayExpiry gives per-day click buckets without expires_at the
// expiry the store sets (the day + 400 days), so the table's TTL removes
// them instead of keeping them forever. Idempotent: the update only
// applies while expires_at is missing.
func backfillDayExpiry(ctx context.Context, m *data.Migrator) error {
	return m.Scan(ctx, "begins_with(#sk, :day) AND attribute_not_exists(#e)",
		map[string]string{"#sk": "SK", "#e": linksExpiresAttr},
		map[string]types.AttributeValue{":day": sAttr(linksDayPrefix)},
		func(item map[string]types.AttributeValue) error {
			pk, sk := stringAttr(item, "PK"), stringAttr(item, "SK")
			day, err := time.Parse(linksDayLayout, strings.TrimPrefix(sk, linksDayPrefix))
			if !strings.HasPrefix(pk, "LINK#") || err != nil {
				m.Logf("warning: %s/%s is not a links day bucket; left alone", pk, sk)
				return nil
			}
			expires := strconv.FormatInt(day.Add(store.ClickRetention).Unix(), 10)
			_, err = m.Update(ctx, &dynamodb.UpdateItemInput{
				Key:                       map[string]types.AttributeValue{"PK": sAttr(pk), "SK": sAttr(sk)},
				UpdateExpression:          aws.String("SET #e = :e"),
				ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(#e)"),
				ExpressionAttributeNames:  map[string]string{"#e": linksExpiresAttr},
				ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: expires}},
			})
			return err
		})
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func sAttr(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
