package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Mode says what an import does with an item whose key is already in the
// table.
type Mode string

// Import modes.
const (
	// ModeOverwrite replaces it (BatchWriteItem, 25 items a call).
	ModeOverwrite Mode = "overwrite"
	// ModeSkipExisting keeps it: one conditional PutItem per item with
	// attribute_not_exists on the partition key.
	ModeSkipExisting Mode = "skip-existing"
)

// ParseMode reads a --mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeOverwrite, ModeSkipExisting:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: use skip-existing or overwrite", s)
}

// batchSize is BatchWriteItem's limit.
const batchSize = 25

// ImportOptions configure Import.
type ImportOptions struct {
	Table string // the table to write; "": the table named in the header
	Mode  Mode   // "": ModeSkipExisting
	// Limiter paces the write capacity (WCU, index writes included); nil: unlimited.
	Limiter       *Limiter
	Backoff       Backoff
	Clock         Clock
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 2 s
}

// ImportResult is what an import did.
type ImportResult struct {
	Header  Header
	Table   string
	Written int64
	Skipped int64   // ModeSkipExisting: keys that were already there
	Units   float64 // estimated WCU, index writes included
}

// Import reads an export and writes its items into the table. Items are
// grouped in batches of 25; a batch is sent only when every line in it
// parsed and validated, and the last one only after the trailer matched,
// so a bad line stops the import with its line number and nothing of the
// batch it was in is written. Batches before it were written. Importing
// a file, the CLI runs Verify first, so a corrupt file writes nothing at
// all; importing the same file twice is harmless in either mode.
func Import(ctx context.Context, ddb *dynamodb.Client, r io.Reader, o ImportOptions) (ImportResult, error) {
	if o.Mode == "" {
		o.Mode = ModeSkipExisting
	}
	if _, err := ParseMode(string(o.Mode)); err != nil {
		return ImportResult{}, err
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Backoff.Clock == nil {
		o.Backoff.Clock = o.Clock
	}
	rd, err := newReader(r)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Header: rd.header, Table: o.Table}
	if res.Table == "" {
		res.Table = rd.header.Table
	}
	target, err := describe(ctx, ddb, res.Table, o.Backoff)
	if err != nil {
		return res, err
	}
	if !sameKeys(target.KeySchema, rd.header.KeySchema) {
		return res, fmt.Errorf("table %s has the key schema %s, the export has %s: import into a table made for this data",
			res.Table, keyString(target.KeySchema), keyString(rd.header.KeySchema))
	}
	w := &batchWriter{ddb: ddb, o: o, table: res.Table, header: target, res: &res, start: o.Clock.Now()}
	w.lastReport = w.start
	for {
		item, _, err := rd.Item()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, importError(err, &res)
		}
		if w.holds(item) {
			// BatchWriteItem refuses two writes of one key in a call.
			if err := w.flush(ctx); err != nil {
				return res, err
			}
		}
		w.batch = append(w.batch, item)
		if len(w.batch) == batchSize {
			if err := w.flush(ctx); err != nil {
				return res, err
			}
		}
	}
	if err := w.flush(ctx); err != nil {
		return res, err
	}
	// The closing line, unless the last batch's line already said it all.
	if o.Progress != nil && (w.reported == nil || w.reported.Items != w.res.Written || w.reported.Skipped != w.res.Skipped) {
		o.Progress(w.progress())
	}
	return res, nil
}

func importError(err error, res *ImportResult) error {
	if res.Written+res.Skipped == 0 {
		return fmt.Errorf("%w; nothing was written", err)
	}
	return fmt.Errorf("%w; the %d items before its batch were imported (%d written, %d skipped), nothing after them (fix the file and import again: items already there are skipped or overwritten, as --mode says)",
		err, res.Written+res.Skipped, res.Written, res.Skipped)
}

type batchWriter struct {
	ddb        *dynamodb.Client
	o          ImportOptions
	table      string
	header     Header // the target table's keys and indexes
	res        *ImportResult
	batch      []map[string]types.AttributeValue
	start      time.Time
	reported   *Progress // the last line printed, so the closing one is not a copy
	lastReport time.Time
}

func (w *batchWriter) keyOf(item map[string]types.AttributeValue) string {
	var b strings.Builder
	for _, k := range w.header.KeySchema {
		v, _ := EncodeItem(map[string]types.AttributeValue{k.Name: item[k.Name]})
		b.Write(v)
	}
	return b.String()
}

func (w *batchWriter) holds(item map[string]types.AttributeValue) bool {
	k := w.keyOf(item)
	return slices.ContainsFunc(w.batch, func(x map[string]types.AttributeValue) bool { return w.keyOf(x) == k })
}

// units is the write capacity an item costs: its size in KB, once for
// the table and once more for each index whose keys it has.
func (w *batchWriter) units(item map[string]types.AttributeValue) float64 {
	u := ItemWriteUnits(item)
	writes := 1.0
	for _, ix := range w.header.Indexes {
		has := true
		for _, k := range ix.Keys {
			_, ok := item[k.Name]
			has = has && ok
		}
		if has {
			writes++
		}
	}
	return u * writes
}

func (w *batchWriter) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	var cost float64
	for _, item := range w.batch {
		cost += w.units(item)
	}
	if err := w.o.Limiter.Charge(ctx, cost); err != nil {
		return err
	}
	var err error
	if w.o.Mode == ModeSkipExisting {
		err = w.putNew(ctx)
	} else {
		err = w.batchWrite(ctx)
	}
	if err != nil {
		return err
	}
	w.res.Units += cost
	w.batch = w.batch[:0]
	if w.o.Progress != nil {
		every := w.o.ProgressEvery
		if every <= 0 {
			every = 2 * time.Second
		}
		if now := w.o.Clock.Now(); now.Sub(w.lastReport) >= every {
			w.lastReport = now
			p := w.progress()
			w.reported = &p
			w.o.Progress(p)
		}
	}
	return nil
}

func (w *batchWriter) progress() Progress {
	return Progress{Items: w.res.Written, Skipped: w.res.Skipped, Units: w.res.Units, Elapsed: w.o.Clock.Now().Sub(w.start)}
}

// batchWrite sends the batch with BatchWriteItem and resends what
// DynamoDB leaves unprocessed (it does under throttling) with backoff.
func (w *batchWriter) batchWrite(ctx context.Context) error {
	reqs := make([]types.WriteRequest, len(w.batch))
	for i, item := range w.batch {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	pending := map[string][]types.WriteRequest{w.table: reqs}
	b := w.o.Backoff.withDefaults()
	for attempt := 0; ; attempt++ {
		var out *dynamodb.BatchWriteItemOutput
		err := b.retry(ctx, "writing to table "+w.table, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, CallTimeout)
			defer cancel()
			var err error
			out, err = w.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			return err
		})
		if err != nil {
			return fmt.Errorf("writing a batch of %d items to table %s: %w", len(pending[w.table]), w.table, err)
		}
		w.res.Written += int64(len(pending[w.table]) - len(out.UnprocessedItems[w.table]))
		if len(out.UnprocessedItems[w.table]) == 0 {
			return nil
		}
		if attempt+1 >= b.Attempts {
			return fmt.Errorf("table %s left %d items unprocessed after %d attempts: %w (lower --rate)",
				w.table, len(out.UnprocessedItems[w.table]), attempt+1, ErrThrottled)
		}
		pending = out.UnprocessedItems
		if err := b.Clock.Sleep(ctx, b.Delay(attempt)); err != nil {
			return err
		}
	}
}

// putNew writes each item of the batch unless its key exists.
func (w *batchWriter) putNew(ctx context.Context) error {
	hash := w.header.KeySchema[0].Name
	for _, ks := range w.header.KeySchema {
		if ks.Role == "HASH" {
			hash = ks.Name
		}
	}
	for _, item := range w.batch {
		err := w.o.Backoff.retry(ctx, "writing to table "+w.table, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, CallTimeout)
			defer cancel()
			_, err := w.ddb.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                aws.String(w.table),
				Item:                     item,
				ConditionExpression:      aws.String("attribute_not_exists(#k)"),
				ExpressionAttributeNames: map[string]string{"#k": hash},
			})
			return err
		})
		var exists *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &exists):
			w.res.Skipped++
		case err != nil:
			return fmt.Errorf("writing an item to table %s: %w", w.table, err)
		default:
			w.res.Written++
		}
	}
	return nil
}

// sameKeys compares key schemas; a type one side does not know matches any.
func sameKeys(a, b []KeyAttr) bool {
	return slices.EqualFunc(sortedKeys(a), sortedKeys(b), func(x, y KeyAttr) bool {
		return x.Name == y.Name && x.Role == y.Role && (x.Type == y.Type || x.Type == "" || y.Type == "")
	})
}

func sortedKeys(ks []KeyAttr) []KeyAttr {
	out := slices.Clone(ks)
	slices.SortFunc(out, func(x, y KeyAttr) int { return strings.Compare(x.Role, y.Role) })
	return out
}

func keyString(ks []KeyAttr) string {
	parts := make([]string, 0, len(ks))
	for _, k := range sortedKeys(ks) {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", k.Role, k.Name, k.Type))
	}
	return strings.Join(parts, ", ")
}
