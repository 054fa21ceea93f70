package freetier_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/freetier"
)

func TestPlanStateOverTheWire(t *testing.T) {
	fake := awsfake.NewFreeTier()
	credits := 87.5
	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "FREE", Status: "ACTIVE", CreditsUSD: &credits, ExpiresEpoch: 1798761600})
	c := freetier.New(awsfake.Config(t, fake))
	got, err := c.GetAccountPlanState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.PlanType != "FREE" || got.PlanStatus != "ACTIVE" || got.RemainingCredits == nil || got.RemainingCredits.Amount != 87.5 || got.AccountID != "123456789012" {
		t.Errorf("plan state %+v", got)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); got.ExpirationDate == nil || !got.ExpirationDate.Equal(want) {
		t.Errorf("expiration %v, want %v", got.ExpirationDate, want)
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0] != "GetAccountPlanState" {
		t.Errorf("calls %v", calls)
	}
}

func TestAccessDenied(t *testing.T) {
	fake := awsfake.NewFreeTier()
	fake.Deny(true)
	c := freetier.New(awsfake.Config(t, fake))
	_, err := c.GetAccountPlanState(context.Background())
	if !freetier.IsAccessDenied(err) {
		t.Fatalf("error %v: want AccessDeniedException", err)
	}
	_, err = c.GetFreeTierUsage(context.Background(), nil)
	if !freetier.IsAccessDenied(err) {
		t.Fatalf("usage error %v: want AccessDeniedException", err)
	}
}

func TestNoPlanIsNotAccessDenied(t *testing.T) {
	c := freetier.New(awsfake.Config(t, awsfake.NewFreeTier()))
	_, err := c.GetAccountPlanState(context.Background())
	if err == nil || freetier.IsAccessDenied(err) {
		t.Fatalf("error %v: want ResourceNotFoundException", err)
	}
	if ae, ok := err.(*freetier.APIError); !ok || ae.Code != "ResourceNotFoundException" || ae.Status != 400 {
		t.Errorf("error %#v", err)
	}
}

func TestUsagePagesAndFilter(t *testing.T) {
	fake := awsfake.NewFreeTier()
	fake.PageSize = 2
	var rows []awsfake.FreeTierUsage
	for _, s := range []string{"AWS Lambda", "Amazon DynamoDB", "AWS Lambda", "Amazon CloudWatch", "AWS Lambda"} {
		rows = append(rows, awsfake.FreeTierUsage{Service: s, UsageType: s + "-usage", Actual: 1, Forecast: 2, Limit: 4, Unit: "Requests", FreeTierType: "Always Free"})
	}
	fake.SetUsage(rows...)
	c := freetier.New(awsfake.Config(t, fake))
	all, err := c.GetFreeTierUsage(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || fake.CallCount("GetFreeTierUsage") != 3 {
		t.Errorf("%d rows in %d calls; want 5 in 3 pages of 2", len(all), fake.CallCount("GetFreeTierUsage"))
	}
	lambda, err := c.GetFreeTierUsage(context.Background(), &freetier.Expression{Dimensions: &freetier.DimensionValues{
		Key: "SERVICE", Values: []string{"AWS Lambda"}, MatchOptions: []string{"EQUALS"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lambda) != 3 || lambda[0].Forecast != 2 || lambda[0].Limit != 4 {
		t.Errorf("filtered rows %+v", lambda)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	fake := awsfake.NewFreeTier()
	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "PAID", Status: "ACTIVE"})
	cfg := awsfake.Config(t, awsfake.NewFreeTier()) // BaseEndpoint: a fake with no plan
	t.Setenv(freetier.EndpointEnv, awsfake.Serve(t, fake))
	got, err := freetier.New(cfg).GetAccountPlanState(context.Background())
	if err != nil || got.PlanType != "PAID" {
		t.Fatalf("AWS_ENDPOINT_URL_FREETIER not used: %+v, %v", got, err)
	}
}

// The fake refuses what AWS refuses: a request not signed for us-east-1
// and the freetier signing name (a client signing for the app's region).
func TestFakeRefusesOtherScopes(t *testing.T) {
	fake := awsfake.NewFreeTier()
	url := awsfake.Serve(t, fake)
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSFreeTierService.GetAccountPlanState")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFAKE/20261208/eu-west-1/freetier/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" {
		t.Errorf("eu-west-1 scope: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}

// A throttled call is retried by the configured retryer: the first answer
// is the API's ThrottlingException, the second the plan.
func TestThrottlingIsRetried(t *testing.T) {
	fake := awsfake.NewFreeTier()
	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "PAID", Status: "ACTIVE"})
	throttled := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if throttled == 0 {
			throttled++
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.freetier#ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		fake.ServeHTTP(w, r)
	})
	cfg := awsfake.Config(t, h)
	cfg.RetryMaxAttempts = 3
	got, err := freetier.New(cfg).GetAccountPlanState(context.Background())
	if err != nil || got.PlanType != "PAID" || throttled != 1 {
		t.Fatalf("plan %+v, error %v, throttled %d", got, err, throttled)
	}
	// With one attempt, the same answer is the error, by its code.
	throttled = 0
	cfg.RetryMaxAttempts = 1
	_, err = freetier.New(cfg).GetAccountPlanState(context.Background())
	if ae, ok := err.(*freetier.APIError); !ok || ae.Code != "ThrottlingException" || ae.Message != "Rate exceeded" {
		t.Fatalf("error %#v", err)
	}
}
