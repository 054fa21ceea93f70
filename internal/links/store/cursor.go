package store

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A cursor is base64url (no padding) of {"v":1,"k":"<GSI1SK>"}: the GSI1
// sort key of the last link on the page. The rest of DynamoDB's
// LastEvaluatedKey (PK, SK, GSI1PK) follows from it, so the cursor carries
// nothing a client could use to read other items, and it is checked
// strictly before it reaches DynamoDB.

const (
	cursorVersion = 1
	maxCursorLen  = 512
	maxSlugLen    = 256
)

type cursorBody struct {
	V int    `json:"v"`
	K string `json:"k"`
}

func encodeCursor(gsiSK string) string {
	b, _ := json.Marshal(cursorBody{V: cursorVersion, K: gsiSK}) // cannot fail for these types
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the ExclusiveStartKey a cursor stands for, or
// ErrBadCursor. An empty cursor is the first page (nil key).
func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	if len(c) > maxCursorLen {
		return nil, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, ErrBadCursor
	}
	var body cursorBody
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() || body.V != cursorVersion {
		return nil, ErrBadCursor
	}
	slug, ok := parseGSI1SK(body.K)
	if !ok {
		return nil, ErrBadCursor
	}
	return map[string]types.AttributeValue{
		attrPK:     s(linkPK(slug)),
		attrSK:     s(skMeta),
		attrGSI1PK: s(GSI1PartitionKey),
		attrGSI1SK: s(body.K),
	}, nil
}

// parseGSI1SK checks "<sortableTime>#<slug>" and returns the slug.
func parseGSI1SK(k string) (string, bool) {
	ts, slug, ok := strings.Cut(k, "#")
	if !ok || slug == "" || len(slug) > maxSlugLen || !utf8.ValidString(slug) {
		return "", false
	}
	t, err := time.Parse(sortableTime, ts)
	if err != nil || t.UTC().Format(sortableTime) != ts {
		return "", false
	}
	for _, r := range slug {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	return slug, true
}
