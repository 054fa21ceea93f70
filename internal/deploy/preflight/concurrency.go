package preflight

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/spec"
)

// unreservedMin is the concurrency Lambda keeps for functions without a
// reservation: "You can reserve up to the Unreserved account concurrency
// value that is shown, minus 100 for functions that don't have reserved
// concurrency"
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
const unreservedMin = 100

// checkConcurrency refuses a serverless reservation the account cannot
// make: its concurrency limit minus 100 is below service.concurrency.
// New accounts may start with a limit of 10, where any reservation fails
// and CloudFormation would roll back the whole stack minutes later.
func checkConcurrency(ctx context.Context, c *awsconf.Clients, s *spec.Spec, problem, note func(string, ...any)) {
	want := s.Service.Concurrency
	if s.ECS() || want <= 0 {
		return
	}
	out, err := call(ctx, func(ctx context.Context) (*lambda.GetAccountSettingsOutput, error) {
		return lambda.NewFromConfig(c.Config).GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	})
	if err != nil || out.AccountLimit == nil {
		note("service.concurrency %d: could not read the account's Lambda concurrency limit (%v); the reservation fails if the limit is below %d", want, err, want+unreservedMin)
		return
	}
	limit := int(out.AccountLimit.ConcurrentExecutions)
	if limit-unreservedMin < want {
		problem("service.concurrency %d: this account's Lambda concurrency limit in %s is %d, and Lambda keeps %d of it unreserved, so it can reserve at most %d; request a higher limit (Service Quotas, AWS Lambda, Concurrent executions), or set service.concurrency: 0 to reserve none (the function then shares the account's %d)",
			want, c.Region(), limit, unreservedMin, max(0, limit-unreservedMin), limit)
		return
	}
	// Other functions' reservations count too; this function's own, once
	// deployed, is inside the unreserved figure already, so only note it.
	if u := out.AccountLimit.UnreservedConcurrentExecutions; u != nil && int(*u)-unreservedMin < want {
		note("service.concurrency %d: only %d of the account's Lambda concurrency is unreserved; unless this function already holds its reservation, the deploy fails: lower service.concurrency, or free reservations of other functions", want, *u)
	}
}
