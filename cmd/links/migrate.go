package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/links"
)

// migrate applies links' own history of data migrations
// (internal/links.Migrations) to TABLE_NAME. links ships its migrations as
// Go code in its own binary, the way an app in any language can ship its
// own: lowfare data migrate applies only the declarative files of the app
// whose spec it reads, and never links' history to another app's table.
// Run it once after a deploy that brings a migration: in the image, as a
// one-off task (`links migrate`), or from a clone with the table's
// variables (docs/runbooks/migrate-data.md).
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("links migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "list the migrations not applied yet; change nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: links migrate [--dry-run]   (TABLE_NAME and the AWS SDK's variables name the table)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "links migrate: unknown argument %q; usage: links migrate [--dry-run]\n", fs.Arg(0))
		return exitUsage
	}
	table := getenv("TABLE_NAME")
	if table == "" {
		fmt.Fprintln(stderr, "links migrate: TABLE_NAME is not set; set it to the DynamoDB table, e.g. TABLE_NAME=links")
		return exitUsage
	}
	awsCfg, local, err := awsConfig(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "links migrate:", err)
		return exitFail
	}
	ddb := dynamoClient(awsCfg, local)
	capacity, err := data.TableCapacity(ctx, ddb, table)
	if err != nil {
		fmt.Fprintln(stderr, "links migrate:", err)
		return exitFail
	}
	// Half the table's provisioned capacity, as lowfare data does, so the
	// live service keeps the other half.
	pace := func(provisioned int64) *data.Limiter {
		if provisioned > 0 {
			return data.NewLimiter(max(1, float64(provisioned)/2), nil)
		}
		return data.NewLimiter(20, nil)
	}
	m := &data.Migrator{DDB: ddb, Table: table, Read: pace(capacity.Read), Write: pace(capacity.Write), Log: stderr}
	list := links.Migrations()
	if *dryRun {
		plan, err := m.Plan(ctx, list)
		if err != nil {
			fmt.Fprintln(stderr, "links migrate:", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "Table %s is at version %d; links knows %d.\n", table, plan.Current, plan.Latest)
		for _, mg := range plan.Pending {
			fmt.Fprintf(stdout, "  would apply %d %s\n", mg.ID, mg.Name)
		}
		return exitOK
	}
	res, err := m.Migrate(ctx, list)
	if err != nil {
		fmt.Fprintln(stderr, "links migrate:", err)
		return exitFail
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(stdout, "Table %s is at version %d: nothing to apply.\n", table, res.To)
		return exitOK
	}
	fmt.Fprintf(stdout, "Table %s migrated from version %d to %d.\n", table, res.From, res.To)
	return exitOK
}
