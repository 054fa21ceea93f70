package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/freetier"
)

// accountProbeTimeout bounds the whole question to the account (finding
// credentials, GetAccountPlanState and the legacy check): cost and plan
// work offline, and an answer that is late is not worth waiting for.
const accountProbeTimeout = 8 * time.Second

// tierChoice is the free-tier model an estimate uses and where it came
// from.
type tierChoice struct {
	tier   cost.FreeTier
	source cost.FreeTierSource
	why    string
	// plan is what the account said (nil when it was not asked).
	plan *freetier.Plan
}

// howToAsk is how a user lets cost and plan ask the account.
const howToAsk = "with AWS credentials allowed freetier:GetAccountPlanState and freetier:GetFreeTierUsage, lowfare cost and plan ask the account; --free-tier legacy|credits|none sets it"

// chooseFreeTier decides the free-tier model: the one given (flagTier,
// when the flag was set), else the account's, else none, assumed. It never
// fails: a plan or an estimate does not depend on the account answering.
func chooseFreeTier(ctx context.Context, opts *rootOptions, flagTier cost.FreeTier, flagSet bool) tierChoice {
	if flagSet {
		return tierChoice{tier: flagTier, source: cost.SourceAssumed, why: "given by --free-tier; the account was not asked."}
	}
	assumed := func(reason string) tierChoice {
		return tierChoice{tier: cost.FreeTierNone, source: cost.SourceAssumed,
			why: fmt.Sprintf("%s, so only the always-free allowances are counted (%s).", reason, howToAsk)}
	}
	ctx, cancel := context.WithTimeout(ctx, accountProbeTimeout)
	defer cancel()
	cfg, err := freeTierConfig(ctx, opts)
	if errors.Is(err, errNoCredentials) {
		return assumed("no AWS credentials to ask the account with")
	}
	if err != nil {
		return assumed(fmt.Sprintf("the AWS configuration did not load (%v)", err))
	}
	plan, err := freetier.ReadPlan(ctx, freetier.New(cfg))
	switch {
	case freetier.IsAccessDenied(err):
		return assumed("the account refused GetAccountPlanState (AccessDeniedException)")
	case err != nil:
		return assumed(fmt.Sprintf("the Free Tier API did not answer (%v)", err))
	}
	ft, ok := cost.TierOfPlan(plan.Name, plan.Status)
	if !ok {
		return assumed(fmt.Sprintf("the account's plan %q is not one lowfare knows", plan.Name))
	}
	return tierChoice{tier: ft, source: cost.SourceAccount, plan: &plan,
		why: fmt.Sprintf("the account says: %s.", plan.Describe())}
}

var errNoCredentials = errors.New("no AWS credentials")

// freeTierConfig is the SDK configuration the account question uses: the
// standard credential chain and --aws-profile, but not the EC2 instance
// metadata service. Off EC2 (a laptop, where cost and plan mostly run)
// that last link only times out, and cost and plan must stay quick when
// there are no credentials; on an instance, set --free-tier or export the
// role's credentials. The Free Tier API lives in us-east-1 whatever the
// app's region.
func freeTierConfig(ctx context.Context, opts *rootOptions) (aws.Config, error) {
	fns := []func(*config.LoadOptions) error{
		config.WithRegion(freetier.Region),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(awsconf.HTTPTimeout).
			WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = awsconf.HTTPTimeout })),
		// Two attempts: a retry is worth one throttle, not the whole
		// probe's time.
		config.WithRetryMaxAttempts(2),
	}
	if opts.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opts.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.HTTPClient = awsconf.OwnBodies(cfg.HTTPClient)
	if cfg.Credentials == nil {
		return aws.Config{}, errNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, errNoCredentials
	}
	return cfg, nil
}
