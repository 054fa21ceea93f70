package cli

import (
	"os"
	"testing"

	"github.com/lowfare/lowfare/internal/freetier"
)

// TestMain keeps this package's tests off the real Free Tier API: cost and
// plan ask it whenever credentials are found, and a developer's machine
// has them. A test that wants an answer points the variable at a fake
// (awsfake.UseEndpoints with "FREETIER").
func TestMain(m *testing.M) {
	if os.Getenv(freetier.EndpointEnv) == "" {
		os.Setenv(freetier.EndpointEnv, "http://127.0.0.1:1")
	}
	os.Exit(m.Run())
}
