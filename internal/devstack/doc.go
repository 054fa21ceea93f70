// Package devstack runs a service on this machine for `lowfare dev`,
// against an in-process minidyn DynamoDB endpoint on 127.0.0.1 (so nothing
// but Go is needed), with the data kept across restarts in a snapshot
// file, or against a DynamoDB-compatible endpoint the user names.
//
// It has two parts that share only the data directory and the database
// (db.go, snapshot.go, lock_*.go):
//
//   - the links runner (links.go, token.go): Run serves the links service
//     in this process;
//   - the supervisor of the user's app (app.go, build.go, envfile.go,
//     supervisor.go, proc_*.go, lambda.go, waking.go): RunApp builds the
//     spec's Go main package, runs it as a child process behind a front
//     server, restarts it, puts it to sleep when idle and, with serve: app,
//     answers through the Lambda adapter while it sleeps; it watches what
//     the build reads (watch.go), names the app's missing secrets and the
//     port it really listens on (sockets_linux.go), and logs requests
//     (reqlog.go), keeping the last lines of its output (tail.go);
//   - with a database: section, a local Postgres for the app (postgres.go,
//     postgres_unix.go), from the machine's own PostgreSQL server programs,
//     with the PG* variables and DATABASE_URL of docs/apps.md.
package devstack
