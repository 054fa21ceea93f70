package cli

import (
	"os"
	"testing"

	"github.com/lowfare/lowfare/internal/freetier"
)

// TestMain keeps this package's tests off the real Free Tier and Price
// List APIs: cost and plan ask them whenever credentials are found, and a
// developer's machine has them. A test that wants an answer points the
// variable at a fake (awsfake.UseEndpoints with "FREETIER" or "PRICING").
func TestMain(m *testing.M) {
	for _, v := range []string{freetier.EndpointEnv, "AWS_ENDPOINT_URL_PRICING"} {
		if os.Getenv(v) == "" {
			os.Setenv(v, "http://127.0.0.1:1")
		}
	}
	os.Exit(m.Run())
}
