package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lowfare/lowfare/internal/testutil"
)

// TestSignMatchesTheSDK: the adapter's Signature Version 4 equals the AWS
// SDK's signer for the same request, time and credentials.
func TestSignMatchesTheSDK(t *testing.T) {
	for _, token := range []string{"", "session-token"} {
		c, err := newSSMClient([]string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AWS_SESSION_TOKEN=" + token}, http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"Names":["/lowfare/a/dev/X"],"WithDecryption":true}`)
		at := time.Date(2026, 12, 1, 10, 11, 12, 0, time.UTC)
		newReq := func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "https://ssm.eu-west-1.amazonaws.com/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
			return r
		}
		ours := newReq()
		c.sign(ours, body, at)

		theirs := newReq()
		creds := aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: token}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, theirs, sha256Hex(body), "ssm", "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
		if got, want := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
			t.Errorf("token %q:\nours   %s\nthe SDK %s", token, got, want)
		}
	}
}

// TestSecretEnvAgainstMoto reads SecureString parameters from moto's SSM
// (an AWS emulator nobody here wrote), more than one GetParameters batch.
func TestSecretEnvAgainstMoto(t *testing.T) {
	url := testutil.Moto(t)
	ctx := context.Background()
	client := ssm.New(ssm.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	var names []string
	for i := range 12 {
		n := fmt.Sprintf("SECRET_%d", i)
		names = append(names, n)
		if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/lowfare/app/dev/" + n), Value: aws.String("value " + n), Type: ssmtypes.ParameterTypeSecureString,
		}); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s",
		"AWS_ENDPOINT_URL_SSM=" + url,
		"SSM_PARAMETER_PREFIX=/lowfare/app/dev/",
	}
	env, err := secretEnv(ctx, append(environ, "LOWFARE_SECRETS="+strings.Join(names, ",")), http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != 12 || env[0] != "SECRET_0=value SECRET_0" || env[11] != "SECRET_11=value SECRET_11" {
		t.Fatalf("env = %q", env)
	}

	_, err = secretEnv(ctx, append(environ, "LOWFARE_SECRETS=SECRET_1,NOPE"), http.DefaultClient)
	if err == nil || !strings.Contains(err.Error(), "secret NOPE") || strings.Contains(err.Error(), "value ") {
		t.Fatalf("a missing secret: err = %v, want one naming NOPE and no value", err)
	}
	if env, err := secretEnv(ctx, []string{"AWS_REGION=us-east-1"}, http.DefaultClient); err != nil || env != nil {
		t.Fatalf("no secrets named: %q, %v", env, err)
	}
}
