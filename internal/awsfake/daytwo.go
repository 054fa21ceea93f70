package awsfake

import "testing"

// DayTwo is every service the day-2 commands (internal/ops: status, logs,
// scale, sleep, wake, secrets) talk to, each faked and empty. Tests seed
// them, then reach them through Config (one client each) or Endpoints.
type DayTwo struct {
	CloudFormation *CloudFormation
	ECS            *ECS
	Logs           *Logs
	SSM            *SSM
	Budgets        *Budgets
	AutoScaling    *AutoScaling
	ELB            *ELBv2
	CloudWatch     *CloudWatch
	STS            *STS
}

// NewDayTwo returns the fakes for one AWS account.
func NewDayTwo(account string) *DayTwo {
	return &DayTwo{
		CloudFormation: NewCloudFormation(),
		ECS:            NewECS(),
		Logs:           NewLogs(),
		SSM:            NewSSM(),
		Budgets:        NewBudgets(account),
		AutoScaling:    NewAutoScaling(),
		ELB:            NewELBv2(),
		CloudWatch:     NewCloudWatch(),
		STS:            NewSTS(account),
	}
}

// Endpoints serves each fake for the rest of the test and returns their
// URLs by AWS_ENDPOINT_URL_<SERVICE> suffix, for UseEndpoints.
func (d *DayTwo) Endpoints(t testing.TB) map[string]string {
	t.Helper()
	return map[string]string{
		"CLOUDFORMATION":            Serve(t, d.CloudFormation),
		"ECS":                       Serve(t, d.ECS),
		"CLOUDWATCH_LOGS":           Serve(t, d.Logs),
		"SSM":                       Serve(t, d.SSM),
		"BUDGETS":                   Serve(t, d.Budgets),
		"APPLICATION_AUTO_SCALING":  Serve(t, d.AutoScaling),
		"ELASTIC_LOAD_BALANCING_V2": Serve(t, d.ELB),
		"CLOUDWATCH":                Serve(t, d.CloudWatch),
		"STS":                       Serve(t, d.STS),
	}
}

// Requests counts the requests all the fakes received.
func (d *DayTwo) Requests() int {
	n := 0
	for _, calls := range [][]string{d.CloudFormation.Calls(), d.ECS.Calls(), d.Logs.Calls(), d.SSM.Calls(), d.Budgets.Calls(),
		d.AutoScaling.Calls(), d.ELB.Calls(), d.CloudWatch.Calls(), d.STS.Calls()} {
		n += len(calls)
	}
	return n
}
