// Command links is the reference service lowfare deploys: a link shortener
// on a DynamoDB single table. Configuration comes from the environment:
//
//	PORT (8080), TABLE_NAME, ADMIN_TOKEN, BASE_URL, LOG_LEVEL (info),
//	CREATE_TOKEN (unset: anyone may create links),
//	CREATE_RATE_LIMIT (creates per client and minute, 10; 0 = no limit),
//	TRUSTED_PROXY_HOPS (proxies that append to X-Forwarded-For: 1 behind
//	the ALB or an HTTP API, 0 = the client connects directly, the default),
//	AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB (the SDK's own variables).
//
// Usage:
//
//	links [--create-table]   serve until SIGTERM/SIGINT, then shut down gracefully
//	links healthcheck        GET /healthz on this machine; exit 0 or 1 (ECS health check)
//	links migrate [--dry-run] apply links' data migrations to TABLE_NAME (once after a deploy)
//
// Under AWS Lambda it runs as it does on ECS: the image lowfare builds for
// profile serverless starts lowfare's Lambda adapter (internal/image/adapter),
// which runs links on $PORT, turns each function URL or HTTP API event into
// a request to it, and passes Lambda's shutdown SIGTERM on, so the clicks
// and request lines still buffered are written before the process ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/links"
	"github.com/lowfare/lowfare/internal/links/store"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// On Lambda, the shutdown phase after SIGTERM lasts 500 ms with an internal
// extension registered (lowfare's Lambda adapter registers one so that the
// app gets SIGTERM at all) (AWS Lambda Developer Guide, "Understanding the
// Lambda execution environment lifecycle", Shutdown phase). The drain and
// the final click flush fit inside it.
const (
	lambdaDrain      = 50 * time.Millisecond
	lambdaStopBudget = 450 * time.Millisecond
)

// awsCallTimeout bounds every DynamoDB HTTP call.
const awsCallTimeout = 10 * time.Second

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		if err := healthcheck(ctx, getenv("PORT")); err != nil {
			fmt.Fprintln(stderr, "links healthcheck:", err)
			return exitFail
		}
		return exitOK
	}
	if len(args) > 0 && args[0] == "migrate" {
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("links", flag.ContinueOnError)
	fs.SetOutput(stderr)
	createTable := fs.Bool("create-table", false, "create TABLE_NAME with the links key schema when it does not exist (for local endpoints)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: links [--create-table] | links healthcheck | links migrate [--dry-run]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "links: unknown argument %q; usage: links [--create-table] | links healthcheck | links migrate [--dry-run]\n", fs.Arg(0))
		return exitUsage
	}
	cfg, level, err := configFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "links:", err)
		return exitUsage
	}
	// One writer for both logs: request lines are batched, slog's lines
	// go out at once, and the order is kept (see links.LogWriter).
	lw := links.NewLogWriter(stdout)
	defer lw.Close()
	cfg.RequestLog = lw
	if getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		// Lambda freezes the process between invocations: a batched line
		// would wait for the next one, or be lost with the environment.
		cfg.RequestLog = lw.Direct()
	}
	log := slog.New(slog.NewJSONHandler(lw.Direct(), &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	awsCfg, local, err := awsConfig(ctx, getenv)
	if err != nil {
		log.Error("configuring AWS", "error", err.Error())
		return exitFail
	}
	ddb := dynamoClient(awsCfg, local)
	if *createTable {
		tctx, cancel := context.WithTimeout(ctx, store.TableWaitTimeout)
		err := store.CreateTable(tctx, ddb, cfg.TableName)
		cancel()
		if err != nil {
			log.Error("creating table", "table", cfg.TableName, "error", err.Error())
			return exitFail
		}
	}
	if prefix := getenv("SSM_PARAMETER_PREFIX"); cfg.AdminToken == "" && prefix != "" {
		// Lambda cannot inject SecureString parameters as ECS does; the
		// stack passes their prefix instead: read the token once per cold
		// start.
		token, err := secretFromSSM(ctx, ssm.NewFromConfig(awsCfg), prefix+"ADMIN_TOKEN")
		if err != nil {
			log.Error("reading the admin token", "parameter", prefix+"ADMIN_TOKEN", "error", err.Error())
			return exitFail
		}
		cfg.AdminToken = token
	}
	if err := links.Run(ctx, cfg, ddb, log, nil); err != nil {
		log.Error("links stopped", "error", err.Error())
		return exitFail
	}
	return exitOK
}

// configFromEnv reads the service's variables; a bad value is a usage error.
func configFromEnv(getenv func(string) string) (links.Config, slog.Level, error) {
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if !numeric(port) {
		return links.Config{}, 0, fmt.Errorf("PORT=%q is not a port number; set PORT to e.g. 8080", port)
	}
	cfg := links.Config{
		Addr:        ":" + port,
		TableName:   getenv("TABLE_NAME"),
		AdminToken:  getenv("ADMIN_TOKEN"),
		CreateToken: getenv("CREATE_TOKEN"),
		BaseURL:     strings.TrimRight(getenv("BASE_URL"), "/"),
	}
	if s := getenv("CREATE_RATE_LIMIT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return links.Config{}, 0, fmt.Errorf("CREATE_RATE_LIMIT=%q: set the creates one client may make a minute, e.g. 10, or 0 for no limit", s)
		}
		cfg.CreateRate = n
		if n == 0 {
			cfg.CreateRate = -1 // links.Config: negative is no limit, 0 the default
		}
	}
	if s := getenv("TRUSTED_PROXY_HOPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 10 {
			return links.Config{}, 0, fmt.Errorf("TRUSTED_PROXY_HOPS=%q: set how many proxies in front append to X-Forwarded-For: 1 behind the ALB or an HTTP API, 0 when clients connect directly", s)
		}
		cfg.TrustedProxyHops = n
	}
	if cfg.TableName == "" {
		return links.Config{}, 0, errors.New("TABLE_NAME is not set; set it to the DynamoDB table, e.g. TABLE_NAME=links")
	}
	if getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		// On Lambda (run by lowfare's adapter, which passes Lambda's
		// variables on) SIGTERM comes only between invocations, so no
		// request is in flight, and SIGKILL follows within the shutdown
		// phase: the final click flush gets lambdaStopBudget.
		cfg.ShutdownGrace, cfg.StopBudget = lambdaDrain, lambdaStopBudget
	}
	if cfg.BaseURL != "" && !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return links.Config{}, 0, fmt.Errorf("BASE_URL=%q must start with http:// or https://", cfg.BaseURL)
	}
	var level slog.Level
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return links.Config{}, 0, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", s)
		}
	}
	return cfg, level, nil
}

func numeric(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// awsConfig is the SDK's standard configuration. Against a local endpoint
// (AWS_ENDPOINT_URL_DYNAMODB, reported as local) it fills in a region and
// dummy credentials when none are set, since local endpoints check neither.
func awsConfig(ctx context.Context, getenv func(string) string) (aws.Config, bool, error) {
	httpClient := awshttp.NewBuildableClient().WithTimeout(awsCallTimeout).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 64 // the click flusher and creates share the pool
			t.ResponseHeaderTimeout = awsCallTimeout
		})
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	local := getenv("AWS_ENDPOINT_URL_DYNAMODB") != ""
	if local && getenv("AWS_REGION") == "" && getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, false, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, false, errors.New("no AWS region: set AWS_REGION")
	}
	// Wrapped after loading, since the loader configures the buildable
	// client itself (CA bundles): the SDK may release a request body while
	// net/http still reads it, which closes the connection under the
	// answer (see awsconf.OwnBodies).
	cfg.HTTPClient = awsconf.OwnBodies(cfg.HTTPClient)
	if local && getenv("AWS_ACCESS_KEY_ID") == "" && getenv("AWS_PROFILE") == "" {
		// Not the SDK chain: without keys it would end at EC2 instance
		// metadata and wait seconds for it. Local endpoints check nothing.
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	return cfg, local, nil
}

// dynamoClient is the table's client; local marks a local endpoint.
func dynamoClient(cfg aws.Config, local bool) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// The SDK checks a CRC32 even when the X-Amz-Crc32 header is
		// missing, which minidyn never sends: every response would log a
		// warning. DynamoDB itself sends the header; keep the check there.
		o.DisableValidateResponseChecksum = local
	})
}

// secretFromSSM reads one SecureString parameter, decrypted.
func secretFromSSM(ctx context.Context, c *ssm.Client, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Parameter.Value), nil
}

// healthcheck asks the running service on this machine whether it is alive.
func healthcheck(ctx context.Context, port string) error {
	if port == "" {
		port = "8080"
	}
	if !numeric(port) {
		return fmt.Errorf("PORT=%q is not a port number", port)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET /healthz on port %s: %w", port, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz on port %s answered %s", port, resp.Status)
	}
	return nil
}
