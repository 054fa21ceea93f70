package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/lowfare/lowfare/internal/awsfake"
)

// TestSecretFromSSM reads the admin token the way Lambda mode does: one
// decrypted GetParameter through the real SDK against a Parameter Store fake.
func TestSecretFromSSM(t *testing.T) {
	fake := awsfake.NewSSM()
	fake.Set("/lowfare/links/dev/ADMIN_TOKEN", "SecureString", "s3cret")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := ssm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	}, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	got, err := secretFromSSM(context.Background(), c, "/lowfare/links/dev/ADMIN_TOKEN")
	if err != nil || got != "s3cret" {
		t.Fatalf("secretFromSSM = %q, %v; want s3cret", got, err)
	}
	if fake.DecryptRequests() != 1 {
		t.Errorf("decrypting requests = %d, want 1", fake.DecryptRequests())
	}
	if _, err := secretFromSSM(context.Background(), c, "/lowfare/links/dev/MISSING"); err == nil {
		t.Error("a missing parameter gave no error")
	}
}
