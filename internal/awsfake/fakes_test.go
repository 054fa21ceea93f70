package awsfake

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSSMThroughSDK(t *testing.T) {
	f := NewSSM()
	c := ssm.NewFromConfig(Config(t, f))
	ctx := testCtx(t)
	put := func(name, value string, overwrite bool) error {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(overwrite)})
		return err
	}
	if err := put("/lowfare/a/dev/TOKEN", "s3cret", false); err != nil {
		t.Fatal(err)
	}
	if err := put("/lowfare/a/dev/TOKEN", "other", false); errorCode(err) != "ParameterAlreadyExists" {
		t.Fatalf("put without overwrite: got %v, want ParameterAlreadyExists", err)
	}
	if err := put("/lowfare/a/dev/TOKEN", "v2", true); err != nil {
		t.Fatal(err)
	}
	if err := put("/lowfare/a/dev/sub/X", "x", true); err != nil {
		t.Fatal(err)
	}
	p, _ := f.Parameter("/lowfare/a/dev/TOKEN")
	if p.Value != "v2" || p.Version != 2 || p.Type != "SecureString" {
		t.Fatalf("stored %+v", p)
	}

	got, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/lowfare/a/dev/TOKEN", "/lowfare/a/dev/NOPE"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Parameters) != 1 || aws.ToString(got.Parameters[0].Value) == "v2" {
		t.Fatalf("GetParameters without decryption leaked or lost the value: %+v", got.Parameters)
	}
	if !slices.Equal(got.InvalidParameters, []string{"/lowfare/a/dev/NOPE"}) {
		t.Fatalf("InvalidParameters = %v", got.InvalidParameters)
	}

	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Path"), Option: aws.String("OneLevel"), Values: []string{"/lowfare/a/dev/"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Parameters) != 1 || aws.ToString(d.Parameters[0].Name) != "/lowfare/a/dev/TOKEN" || d.Parameters[0].Version != 2 || d.Parameters[0].LastModifiedDate == nil {
		t.Fatalf("DescribeParameters = %+v", d.Parameters)
	}
	if f.DecryptRequests() != 0 {
		t.Fatal("decrypt counted without WithDecryption")
	}

	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/lowfare/a/dev/TOKEN")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/lowfare/a/dev/TOKEN")})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("second delete: got %v, want a typed ParameterNotFound", err)
	}
}

func TestECSThroughSDK(t *testing.T) {
	f := NewECS()
	f.AddService(ECSService{Cluster: "c", Name: "web", Desired: 1, Running: 1})
	c := ecs.NewFromConfig(Config(t, f))
	ctx := testCtx(t)
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"web", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 || out.Services[0].RunningCount != 1 || aws.ToString(out.Services[0].Status) != "ACTIVE" {
		t.Fatalf("services = %+v", out.Services)
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("failures = %+v", out.Failures)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), DesiredCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Service("c", "web"); s.Desired != 3 || s.Running != 1 {
		t.Fatalf("after update: %+v", s)
	}
	_, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"web"}})
	if errorCode(err) != "ClusterNotFoundException" {
		t.Fatalf("unknown cluster: %v", err)
	}
	if !slices.Equal(f.Calls(), []string{"DescribeServices", "UpdateService", "DescribeServices"}) {
		t.Fatalf("calls = %v", f.Calls())
	}
}

func TestLogsPaginates(t *testing.T) {
	f := NewLogs()
	f.PageSize = 2
	for i := range 5 {
		f.Put("g", "s", int64(1000+i), "line")
	}
	f.Put("g", "s", 2000, "other")
	c := cloudwatchlogs.NewFromConfig(Config(t, f))
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("g"), StartTime: aws.Int64(1001), FilterPattern: aws.String("line")})
	n, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(out.Events)
	}
	if n != 4 || pages != 2 {
		t.Fatalf("got %d events in %d pages, want 4 in 2", n, pages)
	}
	_, err := c.FilterLogEvents(testCtx(t), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("missing")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing group: %v", err)
	}
}

func TestBudgetsAndSTSThroughSDK(t *testing.T) {
	st := NewSTS("123456789012")
	id, err := sts.NewFromConfig(Config(t, st)).GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("account = %q", aws.ToString(id.Account))
	}
	b := NewBudgets("123456789012")
	b.AddBudget(Budget{Name: "lowfare-a-dev", Limit: 10, Actual: 2.5, Forecasted: 7.25})
	c := budgets.NewFromConfig(Config(t, b))
	out, err := c.DescribeBudget(testCtx(t), &budgets.DescribeBudgetInput{AccountId: aws.String("123456789012"), BudgetName: aws.String("lowfare-a-dev")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Budget.BudgetLimit.Amount) != "10.00" || aws.ToString(out.Budget.CalculatedSpend.ForecastedSpend.Amount) != "7.25" {
		t.Fatalf("budget = %+v", out.Budget)
	}
	_, err = c.DescribeBudget(testCtx(t), &budgets.DescribeBudgetInput{AccountId: aws.String("123456789012"), BudgetName: aws.String("x")})
	if errorCode(err) != "NotFoundException" {
		t.Fatalf("missing budget: %v", err)
	}
}

func TestAutoScalingThroughSDK(t *testing.T) {
	f := NewAutoScaling()
	c := applicationautoscaling.NewFromConfig(Config(t, f))
	ctx := testCtx(t)
	in := &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/c/web"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(0), MaxCapacity: aws.Int32(0)}
	if _, err := c.RegisterScalableTarget(ctx, in); err != nil {
		t.Fatal(err)
	}
	if tg, _ := f.Target("ecs", "service/c/web", "ecs:service:DesiredCount"); tg.Min != 0 || tg.Max != 0 {
		t.Fatalf("target = %+v", tg)
	}
	in.MinCapacity, in.MaxCapacity = aws.Int32(3), aws.Int32(2)
	if _, err := c.RegisterScalableTarget(ctx, in); errorCode(err) != "ValidationException" {
		t.Fatalf("min > max: %v", err)
	}
	f.AddScheduledAction(ScheduledAction{Name: "sleep", Namespace: "ecs", ResourceID: "service/c/web", Dimension: "ecs:service:DesiredCount",
		Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: aws.Int32(0), Max: aws.Int32(0)})
	out, err := c.DescribeScheduledActions(ctx, &applicationautoscaling.DescribeScheduledActionsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/c/web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ScheduledActions) != 1 || aws.ToString(out.ScheduledActions[0].Timezone) != "Europe/Berlin" || aws.ToInt32(out.ScheduledActions[0].ScalableTargetAction.MaxCapacity) != 0 {
		t.Fatalf("actions = %+v", out.ScheduledActions)
	}
}

func TestELBv2ThroughSDK(t *testing.T) {
	f := NewELBv2()
	f.SetTargets("arn:tg", Target{ID: "10.0.0.5", Port: 8080, State: "healthy"}, Target{ID: "10.0.1.7", Port: 8080, State: "unhealthy", Reason: "Target.FailedHealthChecks"})
	c := elbv2.NewFromConfig(Config(t, f))
	out, err := c.DescribeTargetHealth(testCtx(t), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String("arn:tg")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TargetHealthDescriptions) != 2 {
		t.Fatalf("got %d targets", len(out.TargetHealthDescriptions))
	}
	d := out.TargetHealthDescriptions[1]
	if aws.ToString(d.Target.Id) != "10.0.1.7" || aws.ToInt32(d.Target.Port) != 8080 || d.TargetHealth.State != elbtypes.TargetHealthStateEnumUnhealthy || d.TargetHealth.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks {
		t.Fatalf("target = %+v %+v", d.Target, d.TargetHealth)
	}
	_, err = c.DescribeTargetHealth(testCtx(t), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String("arn:other")})
	var nf *elbtypes.TargetGroupNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown group: got %v, want TargetGroupNotFoundException", err)
	}
}

func TestCloudWatchSpeaksCBOR(t *testing.T) {
	f := NewCloudWatch()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f.AddAlarm(Alarm{Name: "lowfare-a-dev-5xx", State: "ALARM", Reason: "Threshold crossed", Updated: at})
	f.AddAlarm(Alarm{Name: "lowfare-a-dev-cpu", State: "OK", Updated: at})
	f.AddAlarm(Alarm{Name: "other-5xx", State: "ALARM", Updated: at})
	c := cloudwatch.NewFromConfig(Config(t, f))
	out, err := c.DescribeAlarms(testCtx(t), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("lowfare-a-dev-"), StateValue: cwtypes.StateValueAlarm})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("got %d alarms, want 1", len(out.MetricAlarms))
	}
	a := out.MetricAlarms[0]
	if aws.ToString(a.AlarmName) != "lowfare-a-dev-5xx" || a.StateValue != cwtypes.StateValueAlarm || !aws.ToTime(a.StateUpdatedTimestamp).Equal(at) {
		t.Fatalf("alarm = %+v", a)
	}
	_, err = c.DescribeAlarms(testCtx(t), &cloudwatch.DescribeAlarmsInput{StateValue: "BOGUS"})
	if errorCode(err) != "InvalidParameterValue" {
		t.Fatalf("bad state: %v", err)
	}
}
