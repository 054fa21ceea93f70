package links

import (
	"io"
	"time"
)

// Config is the service's configuration (from the environment in cmd/links).
type Config struct {
	Addr       string // listen address, e.g. ":8080" or "127.0.0.1:0"
	TableName  string //
	AdminToken string // empty: DELETE always answers 401/403
	// CreateToken, when set, is required (Authorization: Bearer, or the
	// form's token field) to create links; the admin token also works.
	// Empty: anyone may create, within CreateRate.
	CreateToken string
	// CreateRate is how many creates one client may make a minute;
	// 0 = DefaultCreateRate, negative = no limit.
	CreateRate int
	// TrustedProxyHops is how many proxies in front of the service append
	// the address of their peer to X-Forwarded-For: 1 behind the ALB or an
	// HTTP API (lowfare's ingresses), 0 (the default) when clients connect
	// directly. The client is the entry that many places from the right;
	// entries left of it are whatever the client sent and are ignored.
	TrustedProxyHops int
	// BaseURL is the scheme and host of short_url and of the short links
	// on the pages. Empty: taken from the request (Host and
	// X-Forwarded-Proto), which a client can set to anything; set it in
	// production.
	BaseURL       string
	FlushInterval time.Duration // click aggregation flush; 0 = store.DefaultFlushInterval
	ShutdownGrace time.Duration // 0 = default 25s
	// RequestLog receives one JSON line per request, encoded by hand;
	// cmd/links passes a LogWriter, which batches the writes. nil: request
	// lines go through the slog logger given to NewHandler instead (slower,
	// for embedders such as lowfare dev that format their own logs).
	RequestLog io.Writer
	StopBudget time.Duration // from SIGTERM to the end of the final click flush; 0 = DefaultStopBudget
}

// Defaults for the zero values of Config.
const (
	// DefaultShutdownGrace leaves at least 3 s of the stop budget for
	// the final click flush.
	DefaultShutdownGrace = 25 * time.Second
	// DefaultCreateRate is creates per client and minute.
	DefaultCreateRate = 10
	// maxRateClients bounds the rate limiter's memory (about 100 bytes a
	// client); see rateLimiter.
	maxRateClients = 10000
	// DefaultStopBudget is ECS's stop timeout less a margin for exiting:
	// ECS sends SIGKILL 30 s after SIGTERM unless the container
	// definition's stopTimeout says otherwise ("For tasks that use the
	// Fargate launch type ... if the parameter is not specified, the
	// default value of 30 seconds is used": ECS API reference,
	// ContainerDefinition.stopTimeout). The store's Close retries the
	// last clicks until this deadline and logs what it could not save.
	DefaultStopBudget = 28 * time.Second
)

// Server timeouts. IdleTimeout is above the ALB's 60 s idle timeout so the
// load balancer, not us, closes idle keep-alive connections (otherwise it
// can send a request on a connection we are closing and answer 502).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 20 * time.Second
	idleTimeout       = 75 * time.Second
	maxHeaderBytes    = 32 << 10
)

func (c Config) withDefaults() Config {
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.StopBudget <= 0 {
		c.StopBudget = DefaultStopBudget
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.CreateRate == 0 {
		c.CreateRate = DefaultCreateRate
	}
	return c
}
