package awsconf

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// noCredentials leaves the SDK's chain nothing but the instance metadata
// service, which imds (when not empty) stands in for.
func noCredentials(t *testing.T, imds string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":      imds,
		"AWS_EC2_METADATA_DISABLED":              "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_MAX_ATTEMPTS":                       "1",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// Off EC2 the chain ends at IMDS; its failure must not print the SDK's
// "falling back to IMDSv1" warning before lowfare's own message.
func TestNoCredentialsPrintsNoIMDSWarning(t *testing.T) {
	var hits atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method == http.MethodPut { // the IMDSv2 token: refused, as here
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	defer imds.Close()
	noCredentials(t, imds.URL)
	var log bytes.Buffer
	_, err := Load(context.Background(), Options{Region: "us-east-1", Log: &log})
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Load: %v; want ErrNoCredentials", err)
	}
	if hits.Load() == 0 {
		t.Fatal("the chain never asked the metadata service: the test proves nothing")
	}
	if log.Len() != 0 {
		t.Errorf("the SDK logged before lowfare's message:\n%s", log.String())
	}
	if !strings.Contains(err.Error(), "--aws-profile") {
		t.Errorf("the message names the wrong flag: %v", err)
	}
}

func TestUnknownProfileIsLowfaresMessage(t *testing.T) {
	noCredentials(t, "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err := Load(context.Background(), Options{Profile: "nosuch", Region: "us-east-1"})
	if err == nil {
		t.Fatal("an unknown profile loaded")
	}
	for _, want := range []string{`AWS profile "nosuch" (--aws-profile)`, "aws configure --profile nosuch"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "failed to get shared config profile") {
		t.Errorf("the SDK's raw error shows through: %v", err)
	}
}
