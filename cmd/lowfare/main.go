// Command lowfare generates, prices, deploys and operates a small container
// web app with a database on AWS. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lowfare/lowfare/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
