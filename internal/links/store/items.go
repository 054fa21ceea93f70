package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names and key values of the single-table design (see the
// package doc). The key attribute names are shared with the CloudFormation
// template (internal/stack) and must not change.
const (
	attrPK        = "PK"
	attrSK        = "SK"
	attrGSI1PK    = "GSI1PK"
	attrGSI1SK    = "GSI1SK"
	attrType      = "type"
	attrSlug      = "slug"
	attrURL       = "url"
	attrCreatedAt = "created_at"
	attrClicks    = "clicks"
	attrDay       = "day"
	attrExpiresAt = "expires_at" // the table's TTL attribute

	// IndexGSI1 is the newest-first listing index; every link's partition
	// key in it is GSI1PartitionKey (exported, like GSI1SortKey, for
	// internal/data's migrations).
	IndexGSI1        = "GSI1"
	GSI1PartitionKey = "LINKS"

	linkPrefix = "LINK#"
	skMeta     = "META"
	skTotal    = "TOTAL"
	dayPrefix  = "DAY#"

	dayLayout = "2006-01-02"

	// ClickRetention is how long a per-day click bucket is kept (through
	// the table's TTL): its expires_at is the day plus this. Stats show a
	// week; a year and a month keeps a year of history and lets TTL clean
	// up buckets orphaned by a delete racing a flush on another task.
	// Exported for internal/data's migrations, which backfill it.
	ClickRetention = 400 * 24 * time.Hour
)

func linkPK(slug string) string { return linkPrefix + slug }

func dayOf(t time.Time) string { return t.UTC().Format(dayLayout) }

// GSI1SortKey is a link's sort key in the listing index: it orders links
// by creation time; the slug suffix makes keys unique when two links share
// a timestamp. RFC3339Nano in UTC with a fixed width fraction sorts
// lexically in time order. Exported for internal/data's migrations, which
// backfill it.
func GSI1SortKey(created time.Time, slug string) string {
	return created.UTC().Format(sortableTime) + "#" + slug
}

// sortableTime is RFC 3339 with a fixed-width fraction: RFC3339Nano trims
// trailing zeros, which breaks lexical order.
const sortableTime = "2006-01-02T15:04:05.000000000Z07:00"

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(pk), attrSK: s(sk)}
}

func metaItem(l Link) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:        s(linkPK(l.Slug)),
		attrSK:        s(skMeta),
		attrType:      s("link"),
		attrSlug:      s(l.Slug),
		attrURL:       s(l.URL),
		attrCreatedAt: s(l.CreatedAt.UTC().Format(time.RFC3339Nano)),
		attrGSI1PK:    s(GSI1PartitionKey),
		attrGSI1SK:    s(GSI1SortKey(l.CreatedAt, l.Slug)),
	}
}

func getS(item map[string]types.AttributeValue, name string) (string, bool) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

func getN(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil // a counter that was never written is zero
	}
	i, err := strconv.ParseInt(strings.TrimSpace(v.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q is not an integer: %w", name, v.Value, err)
	}
	return i, nil
}

// linkFromItem decodes a META item.
func linkFromItem(item map[string]types.AttributeValue) (Link, error) {
	slug, ok1 := getS(item, attrSlug)
	u, ok2 := getS(item, attrURL)
	created, ok3 := getS(item, attrCreatedAt)
	if !ok1 || !ok2 || !ok3 {
		pk, _ := getS(item, attrPK)
		return Link{}, fmt.Errorf("link item %q lacks slug, url or created_at", pk)
	}
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return Link{}, fmt.Errorf("link %q: created_at %q: %w", slug, created, err)
	}
	return Link{Slug: slug, URL: u, CreatedAt: t}, nil
}
