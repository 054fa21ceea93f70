package links

import "time"

// Config is the service's configuration (from the environment in cmd/links).
type Config struct {
	Addr          string        // listen address, e.g. ":8080" or "127.0.0.1:0"
	TableName     string        //
	AdminToken    string        // empty: DELETE always answers 401/403
	BaseURL       string        // for short_url; empty: derived from the request Host
	FlushInterval time.Duration // click aggregation flush; 0 = store.DefaultFlushInterval
	ShutdownGrace time.Duration // 0 = default 25s
}

// Defaults for the zero values of Config.
const (
	// DefaultShutdownGrace leaves 5 s of ECS's 30 s stop timeout for the
	// final click flush.
	DefaultShutdownGrace = 25 * time.Second
	// flushTimeout bounds the final flush of buffered clicks on shutdown.
	flushTimeout = 4 * time.Second
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
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	return c
}
