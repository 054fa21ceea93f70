package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The schema version and the migration lock are two items of the table
// itself, under a partition key no links item can have: the store's keys
// all start with "LINK#" (and its readiness probe reads "PING"). Neither
// has GSI1 keys, so they never show in the listing.
const (
	schemaPK  = "SCHEMA"
	versionSK = "VERSION"
	lockSK    = "LOCK"

	attrPK      = "PK"
	attrSK      = "SK"
	attrVersion = "version"
	attrName    = "name"
	attrUpdated = "updated_at"
	attrOwner   = "owner"
	attrExpires = "expires_at" // the table's TTL attribute: a lock left behind also goes away by itself

	// DefaultLockTTL is how long a lock holds without renewal. The
	// migrator renews it between migrations and every page of a scan.
	DefaultLockTTL = 10 * time.Minute
)

// Migration is one versioned change of the table's data. Up must be
// idempotent: a run that dies after Up but before the version is stored
// runs it again.
type Migration struct {
	ID   int
	Name string
	Up   func(ctx context.Context, m *Migrator) error
}

// Errors callers branch on.
var (
	ErrLocked   = errors.New("another migration holds the lock")
	ErrLockLost = errors.New("the migration lock was taken over")
	ErrAhead    = errors.New("the table's schema is newer than this lowfare")
)

// Migrator applies migrations to one table and gives them paced,
// retried access to it.
type Migrator struct {
	DDB   *dynamodb.Client
	Table string
	// Owner names this run in the lock; "": host:pid.
	Owner   string
	LockTTL time.Duration // 0: DefaultLockTTL
	Read    *Limiter      // RCU pacing of scans; nil: unlimited
	Write   *Limiter      // WCU pacing of updates; nil: unlimited
	Backoff Backoff
	Clock   Clock
	Log     io.Writer // one line per migration and per warning; nil: discarded

	changed int64
	locked  bool // Migrate holds the lock: Scan renews it
}

func (m *Migrator) init() {
	if m.Clock == nil {
		m.Clock = RealClock{}
	}
	if m.Backoff.Clock == nil {
		m.Backoff.Clock = m.Clock
	}
	if m.LockTTL <= 0 {
		m.LockTTL = DefaultLockTTL
	}
	if m.Owner == "" {
		host, _ := os.Hostname()
		m.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if m.Log == nil {
		m.Log = io.Discard
	}
}

// Logf writes one line to the migration log.
func (m *Migrator) Logf(format string, args ...any) {
	fmt.Fprintf(m.Log, format+"\n", args...)
}

// CheckMigrations validates a list: IDs 1, 2, 3... in order, each with a
// name and an Up.
func CheckMigrations(list []Migration) error {
	for i, mg := range list {
		if mg.ID != i+1 {
			return fmt.Errorf("migration %d (%q) is at position %d: IDs must run 1, 2, 3... in order", mg.ID, mg.Name, i+1)
		}
		if mg.Name == "" || mg.Up == nil {
			return fmt.Errorf("migration %d needs a name and an Up function", mg.ID)
		}
	}
	return nil
}

// Plan is the table's version and the migrations not applied yet.
type Plan struct {
	Current int
	Latest  int
	Pending []Migration
}

// Plan reads the table's version and lists what Migrate would apply.
// It writes nothing (a --dry-run).
func (m *Migrator) Plan(ctx context.Context, list []Migration) (Plan, error) {
	m.init()
	if err := CheckMigrations(list); err != nil {
		return Plan{}, err
	}
	if _, err := describe(ctx, m.DDB, m.Table, m.Backoff); err != nil {
		return Plan{}, err
	}
	v, err := m.Version(ctx)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Current: v, Latest: len(list)}
	if v > len(list) {
		return p, fmt.Errorf("%w: table %s is at version %d, this lowfare knows migrations up to %d; upgrade lowfare", ErrAhead, m.Table, v, len(list))
	}
	p.Pending = list[v:]
	return p, nil
}

// Result is what Migrate did.
type Result struct {
	From, To int
	Applied  []Migration
}

// Migrate takes the lock, applies every pending migration in order,
// storing the version after each, and releases the lock. Two runs at once
// cannot both migrate: the second gets ErrLocked, naming the holder.
func (m *Migrator) Migrate(ctx context.Context, list []Migration) (Result, error) {
	plan, err := m.Plan(ctx, list)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: plan.Current, To: plan.Current}
	if len(plan.Pending) == 0 {
		return res, nil
	}
	if err := m.lock(ctx); err != nil {
		return res, err
	}
	m.locked = true
	defer func() {
		m.locked = false
		// Release even when ctx was cancelled: a held lock blocks the
		// next run until it expires.
		if err := m.unlock(context.WithoutCancel(ctx)); err != nil {
			m.Logf("warning: releasing the migration lock: %v (it expires by itself within %s)", err, m.LockTTL)
		}
	}()
	// Read the version again under the lock: another run may have
	// finished between the plan and the lock.
	v, err := m.Version(ctx)
	if err != nil {
		return res, err
	}
	res.From, res.To = v, v
	for _, mg := range list[min(v, len(list)):] {
		m.changed = 0
		m.Logf("applying %d %s", mg.ID, mg.Name)
		if err := mg.Up(ctx, m); err != nil {
			return res, fmt.Errorf("migration %d %s: %w (the table stays at version %d; migrations are idempotent, so run lowfare data migrate again after fixing the cause)", mg.ID, mg.Name, err, res.To)
		}
		if err := m.setVersion(ctx, res.To, mg); err != nil {
			return res, err
		}
		m.Logf("applied  %d %s (%d items changed)", mg.ID, mg.Name, m.changed)
		res.To = mg.ID
		res.Applied = append(res.Applied, mg)
		if err := m.renew(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

func schemaKey(sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: schemaPK}, attrSK: &types.AttributeValueMemberS{Value: sk}}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Version is the table's applied schema version; 0 when none is stored.
func (m *Migrator) Version(ctx context.Context) (int, error) {
	m.init()
	item, err := m.get(ctx, versionSK)
	if err != nil {
		return 0, err
	}
	if item == nil {
		return 0, nil
	}
	n, ok := item[attrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("table %s: the schema version item has no numeric %s", m.Table, attrVersion)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("table %s: schema version %q is not a whole number", m.Table, n.Value)
	}
	return v, nil
}

func (m *Migrator) get(ctx context.Context, sk string) (map[string]types.AttributeValue, error) {
	var out *dynamodb.GetItemOutput
	err := m.Backoff.retry(ctx, "reading the schema version", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		var err error
		out, err = m.DDB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(m.Table), Key: schemaKey(sk), ConsistentRead: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s of table %s: %w", schemaPK, sk, m.Table, err)
	}
	return out.Item, nil
}

// setVersion moves the version from prev to mg.ID, only if it is still prev.
func (m *Migrator) setVersion(ctx context.Context, prev int, mg Migration) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := m.DDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(m.Table),
		Item: map[string]types.AttributeValue{
			attrPK: str(schemaPK), attrSK: str(versionSK),
			attrVersion: num(int64(mg.ID)), attrName: str(mg.Name),
			attrUpdated: str(m.Clock.Now().UTC().Format(time.RFC3339)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #v = :prev"),
		ExpressionAttributeNames:  map[string]string{"#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": num(int64(prev))},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("storing version %d of table %s: the version is no longer %d: %w", mg.ID, m.Table, prev, ErrLockLost)
	}
	if err != nil {
		return fmt.Errorf("storing version %d of table %s: %w", mg.ID, m.Table, err)
	}
	return nil
}

// lock takes the lock if it is free, expired, or already ours.
func (m *Migrator) lock(ctx context.Context) error {
	now := m.Clock.Now()
	pctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := m.DDB.PutItem(pctx, &dynamodb.PutItemInput{
		TableName: aws.String(m.Table),
		Item: map[string]types.AttributeValue{
			attrPK: str(schemaPK), attrSK: str(lockSK),
			attrOwner:   str(m.Owner),
			attrUpdated: str(now.UTC().Format(time.RFC3339)),
			attrExpires: num(now.Add(m.LockTTL).Unix()),
		},
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #e < :now OR #o = :me"),
		ExpressionAttributeNames:  map[string]string{"#e": attrExpires, "#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix()), ":me": str(m.Owner)},
	})
	if isConditionFailed(err) {
		holder, until := "someone", "soon"
		if item, gerr := m.get(ctx, lockSK); gerr == nil && item != nil {
			if o, ok := item[attrOwner].(*types.AttributeValueMemberS); ok {
				holder = o.Value
			}
			if e, ok := item[attrExpires].(*types.AttributeValueMemberN); ok {
				if sec, perr := strconv.ParseInt(e.Value, 10, 64); perr == nil {
					until = time.Unix(sec, 0).UTC().Format(time.RFC3339)
				}
			}
		}
		return fmt.Errorf("%w: %s holds it on table %s until %s; wait for that run to finish, or, if it died, for the lock to expire", ErrLocked, holder, m.Table, until)
	}
	if err != nil {
		return fmt.Errorf("taking the migration lock on table %s: %w", m.Table, err)
	}
	return nil
}

// renew extends our lock; it fails if someone took it over after it expired.
func (m *Migrator) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := m.DDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Table),
		Key:                       schemaKey(lockSK),
		UpdateExpression:          aws.String("SET #e = :e"),
		ConditionExpression:       aws.String("#o = :me"),
		ExpressionAttributeNames:  map[string]string{"#e": attrExpires, "#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": num(m.Clock.Now().Add(m.LockTTL).Unix()), ":me": str(m.Owner)},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("%w on table %s: this run stopped; run lowfare data migrate again when the other run is done", ErrLockLost, m.Table)
	}
	if err != nil {
		return fmt.Errorf("renewing the migration lock on table %s: %w", m.Table, err)
	}
	return nil
}

func (m *Migrator) unlock(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := m.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(m.Table),
		Key:                       schemaKey(lockSK),
		ConditionExpression:       aws.String("#o = :me"),
		ExpressionAttributeNames:  map[string]string{"#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": str(m.Owner)},
	})
	if isConditionFailed(err) {
		return nil // not ours any more: nothing to release
	}
	return err
}

// Scan calls fn for every item that matches the filter (a FilterExpression
// with its names and values; "" for all), page by page, paced by Read.
// The lock is renewed after every page, so a long scan keeps it.
func (m *Migrator) Scan(ctx context.Context, filter string, names map[string]string, values map[string]types.AttributeValue, fn func(item map[string]types.AttributeValue) error) error {
	m.init()
	in := &dynamodb.ScanInput{
		TableName:              aws.String(m.Table),
		Limit:                  aws.Int32(DefaultPageSize),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
		in.ExpressionAttributeNames = names
		in.ExpressionAttributeValues = values
	}
	var scanned int64
	lastLog := m.Clock.Now()
	for {
		var out *dynamodb.ScanOutput
		err := m.Backoff.retry(ctx, "scanning table "+m.Table, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, CallTimeout)
			defer cancel()
			var err error
			out, err = m.DDB.Scan(ctx, in)
			return err
		})
		if err != nil {
			return fmt.Errorf("scanning table %s: %w", m.Table, err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		scanned += int64(out.ScannedCount)
		if now := m.Clock.Now(); now.Sub(lastLog) >= 5*time.Second {
			lastLog = now
			m.Logf("  scanned %d items, changed %d", scanned, m.changed)
		}
		// A filtered scan pays for what it read, not what it returned;
		// without a reported figure, charge a full page of small items.
		cost := readUnits(int(out.ScannedCount) * 256)
		if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
			cost = *out.ConsumedCapacity.CapacityUnits
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if err := m.Read.Charge(ctx, cost); err != nil {
			return err
		}
		if m.locked {
			if err := m.renew(ctx); err != nil {
				return err
			}
		}
	}
}

// Update runs one UpdateItem, paced by Write and retried when throttled.
// It reports false, without an error, when its condition did not hold,
// which is how migrations skip items that are already migrated.
func (m *Migrator) Update(ctx context.Context, in *dynamodb.UpdateItemInput) (bool, error) {
	m.init()
	in.TableName = aws.String(m.Table)
	return m.conditionalWrite(ctx, 1, "updating table", "updating", func(ctx context.Context) error {
		_, err := m.DDB.UpdateItem(ctx, in)
		return err
	})
}

// Put runs one PutItem, paced by Write (units: the item's size, times two
// when it has index keys is the caller's to say) and retried when
// throttled. Like Update it reports false when its condition did not hold.
func (m *Migrator) Put(ctx context.Context, in *dynamodb.PutItemInput, units float64) (bool, error) {
	m.init()
	in.TableName = aws.String(m.Table)
	return m.conditionalWrite(ctx, units, "writing to table", "writing", func(ctx context.Context) error {
		_, err := m.DDB.PutItem(ctx, in)
		return err
	})
}

// conditionalWrite is what Update and Put share: charge units to Write,
// run call under CallTimeout with retries when throttled, and count the
// write unless its condition did not hold (false, no error). retryWhat
// and verb word the throttling error and the others.
func (m *Migrator) conditionalWrite(ctx context.Context, units float64, retryWhat, verb string, call func(context.Context) error) (bool, error) {
	if err := m.Write.Charge(ctx, units); err != nil {
		return false, err
	}
	err := m.Backoff.retry(ctx, retryWhat+" "+m.Table, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		return call(ctx)
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s an item of table %s: %w", verb, m.Table, err)
	}
	m.changed++
	return true, nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
