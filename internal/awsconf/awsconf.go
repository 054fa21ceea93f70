// Package awsconf loads the AWS SDK configuration the same way for every
// command that talks to AWS: the SDK's standard credential chain, --aws-profile
// and --region, endpoint overrides through the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> variables, and a timeout on every HTTP call.
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// HTTPTimeout bounds every single AWS API call (not a whole operation such
// as waiting for a stack, which has its own deadline).
const HTTPTimeout = 30 * time.Second

// Options select the profile and region; empty means the SDK's defaults.
type Options struct {
	Profile string
	Region  string
	// Log receives the SDK's own log lines (default os.Stderr), less the
	// EC2 instance metadata ones (see quietIMDS).
	Log io.Writer
}

// ErrNoCredentials is returned by Load when the chain finds no credentials.
var ErrNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE (or --aws-profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")

// quietIMDS drops the SDK's log lines about the EC2 instance metadata
// service. Off EC2, the last link of the credential chain asks IMDS, fails,
// and the SDK warns "falling back to IMDSv1" before lowfare can say the one
// thing that matters (no credentials, and what to set).
type quietIMDS struct{ next logging.Logger }

func (q quietIMDS) Logf(c logging.Classification, format string, v ...any) {
	if msg := fmt.Sprintf(format, v...); strings.Contains(msg, "IMDS") || strings.Contains(msg, "ec2imds") {
		return
	}
	q.next.Logf(c, format, v...)
}

// Load builds the SDK configuration and checks that credentials resolve,
// so a missing setup fails with one line before any API call.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	logw := o.Log
	if logw == nil {
		logw = os.Stderr
	}
	fns := []func(*config.LoadOptions) error{config.WithLogger(quietIMDS{logging.NewStandardLogger(logw)})}
	if o.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		fns = append(fns, config.WithRegion(o.Region))
	}
	fns = append(fns, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(HTTPTimeout).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = HTTPTimeout })))
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		from := "--aws-profile"
		if o.Profile == "" {
			from = "AWS_PROFILE"
		}
		return aws.Config{}, fmt.Errorf("AWS profile %q (%s) is not in ~/.aws/config or ~/.aws/credentials: 'aws configure list-profiles' lists the ones there; create it with 'aws configure --profile %s'",
			noProfile.Profile, from, noProfile.Profile)
	}
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
