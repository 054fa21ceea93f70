package data

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// Defaults of an export.
const (
	DefaultSegments = 4
	DefaultPageSize = 100 // items per Scan page: a page of links items is a few RCU
	maxSegments     = 1000000
)

// CallTimeout bounds every single DynamoDB call.
const CallTimeout = 30 * time.Second

// Progress is reported during long work, at most every ProgressEvery.
type Progress struct {
	Items   int64
	Skipped int64 // import --mode skip-existing: items already in the table
	Units   float64
	Elapsed time.Duration
}

// ExportOptions configure Export.
type ExportOptions struct {
	Table    string
	Segments int   // parallel Scan segments; 0: DefaultSegments
	PageSize int32 // 0: DefaultPageSize
	// Limiter paces the read capacity (RCU) of the scan; nil: unlimited.
	Limiter  *Limiter
	Backoff  Backoff
	Clock    Clock // nil: the wall clock
	Progress func(Progress)
	// ProgressEvery is the minimum interval between Progress calls; 0: 2 s.
	ProgressEvery time.Duration
}

// Export writes every item of the table to w as JSON Lines: a header, one
// item per line in DynamoDB JSON, and a trailer with the count and a
// checksum. Segments scan in parallel and share the limiter; a single
// writer serialises their lines, and pages flow through a bounded
// channel, so memory stays constant whatever the table's size.
//
// A Scan is not a snapshot: an item written during the export may be in
// it in its old state, its new state, or not at all. docs/runbooks/
// restore-data.md says when that matters and what to do instead.
func Export(ctx context.Context, ddb *dynamodb.Client, w io.Writer, o ExportOptions) (Summary, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	header, err := exportHeader(ctx, ddb, o)
	if err != nil {
		return Summary{}, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := writeLine(bw, header); err != nil {
		return Summary{}, err
	}
	sum := Summary{Header: header}
	digest := sha256.New()
	progress := newExportProgress(o)
	sum.Items, err = scanAndWrite(ctx, ddb, o, header.Segments, bw, digest, progress)
	if err != nil {
		return sum, err
	}
	// The trailer goes out only after every segment finished: a file
	// without one is known to be incomplete.
	if err := writeLine(bw, Trailer{End: 1, Items: sum.Items, SHA256: hex.EncodeToString(digest.Sum(nil))}); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("writing the export: %w", err)
	}
	progress.finish(sum.Items)
	return sum, nil
}

// withDefaults fills in the options left zero and checks the segment count.
func (o ExportOptions) withDefaults() (ExportOptions, error) {
	if o.Segments == 0 {
		o.Segments = DefaultSegments
	}
	if o.Segments < 1 || o.Segments > maxSegments {
		return o, fmt.Errorf("segments %d: use 1 to %d", o.Segments, maxSegments)
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Backoff.Clock == nil {
		o.Backoff.Clock = o.Clock
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	return o, nil
}

// exportHeader describes the table for the export's first line: its keys
// and indexes, the segments it is scanned in, and when.
func exportHeader(ctx context.Context, ddb *dynamodb.Client, o ExportOptions) (Header, error) {
	header, err := describe(ctx, ddb, o.Table, o.Backoff)
	if err != nil {
		return Header{}, err
	}
	segments, err := checkSegments(ctx, ddb, o.Table, o.Segments, o.Backoff)
	if err != nil {
		return Header{}, err
	}
	header.Segments = segments
	if err := inferKeyTypes(ctx, ddb, &header, o.Backoff); err != nil {
		return Header{}, err
	}
	header.ExportedAt = o.Clock.Now().UTC().Truncate(time.Second)
	return header, nil
}

// scanAndWrite scans the table in segments, in parallel, and writes each
// item line to w and digest as its page arrives. It returns how many items
// it wrote, also when it fails.
func scanAndWrite(ctx context.Context, ddb *dynamodb.Client, o ExportOptions, segments int, w io.Writer, digest hash.Hash, progress *exportProgress) (int64, error) {
	pages := make(chan [][]byte, 2*segments)
	g, gctx := errgroup.WithContext(ctx)
	var scanners sync.WaitGroup
	for seg := range segments {
		scanners.Add(1)
		g.Go(func() error {
			defer scanners.Done()
			return scanSegment(gctx, ddb, o, seg, segments, pages, &progress.units)
		})
	}
	go func() { scanners.Wait(); close(pages) }()
	// One writer: when it fails, gctx stops the scanners.
	var items int64
	g.Go(func() error {
		for page := range pages {
			for _, line := range page {
				if _, err := w.Write(line); err != nil {
					return fmt.Errorf("writing the export: %w", err)
				}
				digest.Write(line)
				items++
			}
			progress.page(items)
		}
		return nil
	})
	err := g.Wait()
	return items, err
}

// exportProgress calls ExportOptions.Progress at most every ProgressEvery
// while the pages arrive, and once more at the end unless the last call
// already had the final count.
type exportProgress struct {
	report   func(Progress) // nil: no reports
	clock    Clock
	every    time.Duration
	start    time.Time
	last     time.Time
	reported int64         // items at the last report; -1: none yet
	units    atomic.Uint64 // milli-units, summed by the segments
}

func newExportProgress(o ExportOptions) *exportProgress {
	start := o.Clock.Now()
	return &exportProgress{report: o.Progress, clock: o.Clock, every: o.ProgressEvery, start: start, last: start, reported: -1}
}

// page reports items written so far if the interval has passed.
func (p *exportProgress) page(items int64) {
	if p.report == nil {
		return
	}
	if now := p.clock.Now(); now.Sub(p.last) >= p.every {
		p.last, p.reported = now, items
		p.report(Progress{Items: items, Units: float64(p.units.Load()) / 1000, Elapsed: now.Sub(p.start)})
	}
}

// finish reports the final count, unless the last report had it already.
func (p *exportProgress) finish(items int64) {
	if p.report != nil && (p.reported < 0 || p.reported != items) {
		p.report(Progress{Items: items, Units: float64(p.units.Load()) / 1000, Elapsed: p.clock.Now().Sub(p.start)})
	}
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing the export: %w", err)
	}
	return nil
}

func scanSegment(ctx context.Context, ddb *dynamodb.Client, o ExportOptions, seg, total int, pages chan<- [][]byte, units *atomic.Uint64) error {
	in := &dynamodb.ScanInput{
		TableName:              aws.String(o.Table),
		Limit:                  aws.Int32(o.PageSize),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if total > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(total))
	}
	for {
		var out *dynamodb.ScanOutput
		err := o.Backoff.retry(ctx, fmt.Sprintf("scanning segment %d of table %s", seg, o.Table), func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, CallTimeout)
			defer cancel()
			var err error
			out, err = ddb.Scan(ctx, in)
			return err
		})
		if err != nil {
			return fmt.Errorf("scanning table %s (segment %d of %d): %w", o.Table, seg, total, err)
		}
		lines := make([][]byte, 0, len(out.Items))
		size := 0
		for _, item := range out.Items {
			b, err := EncodeItem(item)
			if err != nil {
				return fmt.Errorf("encoding an item of table %s: %w", o.Table, err)
			}
			lines = append(lines, append(b, '\n'))
			size += ItemSize(item)
		}
		// Charge what the page consumed, as DynamoDB reports it, or as
		// its pricing computes it when the endpoint reports nothing.
		cost := readUnits(size)
		if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
			cost = *out.ConsumedCapacity.CapacityUnits
		}
		units.Add(uint64(cost * 1000))
		select {
		case pages <- lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		// Every page is paid for, the last one too: an endpoint that
		// answers a whole table in one page (minidyn ignores Limit) would
		// otherwise be read at any rate.
		if err := o.Limiter.Charge(ctx, cost); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// checkSegments returns how many segments to scan with. DynamoDB and
// dynalite refuse a Segment that is not below TotalSegments; an endpoint
// that accepts one ignores segments altogether (minidyn does) and would
// return every item once per segment, so it is scanned in one.
func checkSegments(ctx context.Context, ddb *dynamodb.Client, table string, want int, b Backoff) (int, error) {
	if want == 1 {
		return 1, nil
	}
	err := b.retry(ctx, "scanning table "+table, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		_, err := ddb.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(table), Limit: aws.Int32(1),
			Segment: aws.Int32(1), TotalSegments: aws.Int32(1),
		})
		return err
	})
	var ae smithy.APIError
	switch {
	case err == nil:
		return 1, nil
	case errors.As(err, &ae) && ae.ErrorCode() == "ValidationException":
		return want, nil
	default:
		return 0, fmt.Errorf("scanning table %s: %w", table, err)
	}
}

// inferKeyTypes fills in key types DescribeTable left out (minidyn's
// has no attribute definitions) from an item of the table, if it has one.
func inferKeyTypes(ctx context.Context, ddb *dynamodb.Client, h *Header, b Backoff) error {
	if !slices.ContainsFunc(h.KeySchema, func(k KeyAttr) bool { return k.Type == "" }) {
		return nil
	}
	var out *dynamodb.ScanOutput
	err := b.retry(ctx, "scanning table "+h.Table, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		var err error
		out, err = ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(h.Table), Limit: aws.Int32(1)})
		return err
	})
	if err != nil {
		return fmt.Errorf("scanning table %s: %w", h.Table, err)
	}
	if len(out.Items) == 0 {
		return nil
	}
	for i, k := range h.KeySchema {
		if k.Type == "" {
			h.KeySchema[i].Type = typeOf(out.Items[0][k.Name])
		}
	}
	return h.check()
}

// describeTable is DescribeTable, retried while throttled, with
// ErrNoTable for a table that does not exist.
func describeTable(ctx context.Context, ddb *dynamodb.Client, table string, b Backoff) (*types.TableDescription, error) {
	var out *dynamodb.DescribeTableOutput
	err := b.retry(ctx, "describing table "+table, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		var err error
		out, err = ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("%w: table %s does not exist at this endpoint (check --table, --region and --dynamodb-endpoint)", ErrNoTable, table)
	}
	if err != nil {
		return nil, fmt.Errorf("describing table %s: %w", table, err)
	}
	return out.Table, nil
}

// describe reads the table's key schema and indexes for the header.
func describe(ctx context.Context, ddb *dynamodb.Client, table string, b Backoff) (Header, error) {
	t, err := describeTable(ctx, ddb, table, b)
	if err != nil {
		return Header{}, err
	}
	attrTypes := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		attrTypes[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	keys := func(ks []types.KeySchemaElement) []KeyAttr {
		var out []KeyAttr
		for _, k := range ks {
			name := aws.ToString(k.AttributeName)
			out = append(out, KeyAttr{Name: name, Type: attrTypes[name], Role: string(k.KeyType)})
		}
		return out
	}
	h := Header{Version: FormatVersion, Table: table, KeySchema: keys(t.KeySchema)}
	for _, g := range t.GlobalSecondaryIndexes {
		h.Indexes = append(h.Indexes, IndexKeys{Name: aws.ToString(g.IndexName), Keys: keys(g.KeySchema)})
	}
	for _, l := range t.LocalSecondaryIndexes {
		h.Indexes = append(h.Indexes, IndexKeys{Name: aws.ToString(l.IndexName), Keys: keys(l.KeySchema)})
	}
	if err := h.check(); err != nil {
		return Header{}, fmt.Errorf("table %s: %w", table, err)
	}
	return h, nil
}

// ErrNoTable means the named table does not exist.
var ErrNoTable = errors.New("no such table")

// Capacity is a table's provisioned throughput. All zero means on-demand
// (or an endpoint that reports none).
type Capacity struct {
	Read, Write int64
}

// TableCapacity reads the table's provisioned capacity, from which the CLI
// derives a default --rate that leaves the live service its share.
func TableCapacity(ctx context.Context, ddb *dynamodb.Client, table string) (Capacity, error) {
	t, err := describeTable(ctx, ddb, table, Backoff{})
	if err != nil {
		return Capacity{}, err
	}
	var c Capacity
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		return c, nil
	}
	if p := t.ProvisionedThroughput; p != nil {
		c.Read, c.Write = aws.ToInt64(p.ReadCapacityUnits), aws.ToInt64(p.WriteCapacityUnits)
	}
	return c, nil
}
