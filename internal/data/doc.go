// Package data moves and migrates the data of an app's single table,
// whatever its items, through aws-sdk-go-v2's DynamoDB client only, so the same code runs
// against DynamoDB, minidyn and dynalite.
//
//   - Export: a parallel Scan into JSON Lines, a header line (format
//     version, table, key schema, time), one item per line in DynamoDB
//     JSON, and a trailer line with the item count and a checksum, so an
//     import can tell a complete file from a cut one.
//   - Import: reads that format, validates every line before its batch is
//     sent, writes with BatchWriteItem (overwrite) or conditional PutItem
//     (skip-existing), retries what DynamoDB throttles or leaves
//     unprocessed, and checks the trailer.
//   - Migrations: numbered, idempotent steps, either an app's declarative
//     files (migrations/NNN-name.yaml beside lowfare.yaml, LoadMigrations,
//     what lowfare data migrate applies) or Go functions an app ships in
//     its own binary (links' history is internal/links.Migrations, applied
//     by `links migrate`); the applied version and a lock (owner + expiry)
//     are items of the table itself, written only when a migration runs.
//
// Every long operation is paced by a Limiter in capacity units per
// second, so it leaves the live service its share of a small provisioned
// table (the free tier is 25 RCU and 25 WCU for the table and its index
// together). docs/runbooks/restore-data.md shows the commands.
package data
