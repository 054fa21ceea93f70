// Package awsconf loads the AWS SDK configuration the same way for every
// command that talks to AWS: the SDK's standard credential chain, --profile
// and --region, endpoint overrides through the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> variables, and a timeout on every HTTP call.
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// HTTPTimeout bounds every single AWS API call (not a whole operation such
// as waiting for a stack, which has its own deadline).
const HTTPTimeout = 30 * time.Second

// Options select the profile and region; empty means the SDK's defaults.
type Options struct {
	Profile string
	Region  string
}

// ErrNoCredentials is returned by Load when the chain finds no credentials.
var ErrNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")

// Load builds the SDK configuration and checks that credentials resolve,
// so a missing setup fails with one line before any API call.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if o.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		fns = append(fns, config.WithRegion(o.Region))
	}
	fns = append(fns, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(HTTPTimeout).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = HTTPTimeout })))
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg.HTTPClient = OwnBodies(cfg.HTTPClient)
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set region in lowfare.yaml, --region, or AWS_REGION")
	}
	cctx, cancel := context.WithTimeout(ctx, HTTPTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return aws.Config{}, ErrNoCredentials
	}
	return cfg, nil
}
