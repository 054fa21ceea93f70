package awsfake

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lowfare/lowfare/internal/awsconf"
)

// Serve runs h on a local HTTP server for the rest of the test and
// returns its URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Config is an SDK config whose clients send every request to a local
// server running h: fake static credentials, us-east-1, and no retries, so
// a fake's error surfaces on the first call.
func Config(t testing.TB, h http.Handler) aws.Config {
	t.Helper()
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		BaseEndpoint:     aws.String(Serve(t, h)),
		RetryMaxAttempts: 1,
		// As every lowfare client does (see awsconf.OwnBodies).
		HTTPClient: awsconf.OwnBodies(http.DefaultClient),
	}
}

// UseEndpoints points the SDK, loaded from the environment as the CLI
// loads it, at local endpoints for the rest of the test: endpoints maps a
// service's AWS_ENDPOINT_URL_<SERVICE> suffix ("CLOUDFORMATION", "SSM",
// ...) to a URL (from Serve, or a local DynamoDB's). A catch-all
// AWS_ENDPOINT_URL sends any service not listed to a closed port, so
// nothing reaches AWS. The developer's own AWS setup (profile, config and
// credentials files, container and instance credentials, region) is kept
// out, and fake static credentials are set; a test of missing
// credentials clears AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY after.
func UseEndpoints(t testing.TB, endpoints map[string]string) {
	t.Helper()
	dir := t.TempDir() // config and credentials files that do not exist
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_MAX_ATTEMPTS":                       "1",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_ACCESS_KEY_ID":                      "AKIDFAKE",
		"AWS_SECRET_ACCESS_KEY":                  "secret",
		"AWS_ENDPOINT_URL":                       "http://127.0.0.1:1",
	} {
		t.Setenv(k, v)
	}
	for service, url := range endpoints {
		t.Setenv("AWS_ENDPOINT_URL_"+service, url)
	}
}
