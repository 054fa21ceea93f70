// Package freetier is a small client for the AWS Free Tier API, whose Go
// SDK module is not served by the module proxy lowfare builds from. It
// speaks the API's wire protocol (AWS JSON 1.0, X-Amz-Target
// AWSFreeTierService.<Operation>) with the SDK's own pieces: the
// credential chain of an aws.Config, the Signature Version 4 signer
// (aws/signer/v4), the configured retryer, and a timeout on every call.
//
// The API has one endpoint, in us-east-1, whatever region the app runs in:
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_Operations_AWS_Free_Tier.html
// ("The Free Tier API provides the following endpoint:
// https://freetier.us-east-1.api.aws").
package freetier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	// Endpoint is the API's one endpoint.
	Endpoint = "https://freetier.us-east-1.api.aws"
	// Region is where requests are signed for, whatever the app's region.
	Region = "us-east-1"
	// SigningName is the service name in the SigV4 credential scope.
	SigningName = "freetier"
	// TargetPrefix names the operations in X-Amz-Target.
	TargetPrefix = "AWSFreeTierService"
	// EndpointEnv overrides the endpoint, as the SDK's own
	// AWS_ENDPOINT_URL_<SERVICE> variables do for its clients (the
	// service id "freetier" in upper case).
	EndpointEnv = "AWS_ENDPOINT_URL_FREETIER"

	// CallTimeout bounds one call, retries included, when the caller's
	// context has no earlier deadline.
	CallTimeout = 20 * time.Second

	maxResponse = 8 << 20
)

// Client calls the Free Tier API.
type Client struct {
	endpoint string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	retryer  aws.Retryer
	signer   *v4.Signer
}

// New builds a client from an SDK configuration: its credentials, HTTP
// client and retry settings. The endpoint is AWS_ENDPOINT_URL_FREETIER,
// else the configuration's base endpoint (AWS_ENDPOINT_URL), else the
// API's own.
func New(cfg aws.Config) *Client {
	c := &Client{endpoint: Endpoint, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner()}
	if e := os.Getenv(EndpointEnv); e != "" {
		c.endpoint = e
	} else if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		c.endpoint = *cfg.BaseEndpoint
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: CallTimeout}
	}
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	default:
		c.retryer = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts > 0 {
		c.retryer = retry.AddWithMaxAttempts(c.retryer, cfg.RetryMaxAttempts)
	}
	return c
}

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.endpoint }

// MonetaryAmount is an amount of money.
type MonetaryAmount struct {
	Amount float64 `json:"amount"`
	Unit   string  `json:"unit"`
}

// PlanState is GetAccountPlanState's answer.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_freetier_GetAccountPlanState.html
type PlanState struct {
	AccountID string `json:"accountId"`
	// PlanType is FREE or PAID.
	PlanType string `json:"accountPlanType"`
	// PlanStatus is NOT_STARTED, ACTIVE or EXPIRED.
	PlanStatus       string          `json:"accountPlanStatus"`
	RemainingCredits *MonetaryAmount `json:"accountPlanRemainingCredits,omitempty"`
	ExpirationDate   *Timestamp      `json:"accountPlanExpirationDate,omitempty"`
}

// Usage is one free tier offer and this month's use of it (FreeTierUsage).
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_freetier_FreeTierUsage.html
type Usage struct {
	Service      string  `json:"service,omitempty"`
	Operation    string  `json:"operation,omitempty"`
	UsageType    string  `json:"usageType,omitempty"`
	Region       string  `json:"region,omitempty"`
	Actual       float64 `json:"actualUsageAmount"`
	Forecast     float64 `json:"forecastedUsageAmount"`
	Limit        float64 `json:"limit"`
	Unit         string  `json:"unit,omitempty"`
	Description  string  `json:"description,omitempty"`
	FreeTierType string  `json:"freeTierType,omitempty"`
}

// Expression filters GetFreeTierUsage (the API's Expression shape).
type Expression struct {
	And        []Expression     `json:"And,omitempty"`
	Or         []Expression     `json:"Or,omitempty"`
	Not        *Expression      `json:"Not,omitempty"`
	Dimensions *DimensionValues `json:"Dimensions,omitempty"`
}

// DimensionValues is one dimension condition: Key SERVICE, USAGE_TYPE,
// ...; MatchOptions EQUALS, STARTS_WITH, ...
type DimensionValues struct {
	Key          string   `json:"Key"`
	Values       []string `json:"Values"`
	MatchOptions []string `json:"MatchOptions"`
}

// Timestamp is an AWS JSON 1.0 timestamp: seconds since the epoch, as a
// JSON number with an optional fraction.
type Timestamp struct{ time.Time }

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(t.UnixMilli()) / 1000)
}

// UnmarshalJSON reads epoch seconds.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("timestamp %s: want epoch seconds: %w", b, err)
	}
	whole, frac := math.Modf(secs)
	t.Time = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	return nil
}

// GetAccountPlanState asks which plan the account is on.
func (c *Client) GetAccountPlanState(ctx context.Context) (*PlanState, error) {
	var out PlanState
	if err := c.do(ctx, "GetAccountPlanState", struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetFreeTierUsage lists every free tier offer matching filter (nil: all)
// with this month's usage, following nextToken to the last page.
func (c *Client) GetFreeTierUsage(ctx context.Context, filter *Expression) ([]Usage, error) {
	type request struct {
		Filter     *Expression `json:"filter,omitempty"`
		MaxResults int         `json:"maxResults"`
		NextToken  string      `json:"nextToken,omitempty"`
	}
	type response struct {
		FreeTierUsages []Usage `json:"freeTierUsages"`
		NextToken      string  `json:"nextToken"`
	}
	// 1000 is the documented maximum page size.
	in := request{Filter: filter, MaxResults: 1000}
	var all []Usage
	for page := 0; ; page++ {
		if page == 100 {
			return nil, errors.New("GetFreeTierUsage: more than 100 pages; the API keeps answering a next token")
		}
		var out response
		if err := c.do(ctx, "GetFreeTierUsage", in, &out); err != nil {
			return nil, err
		}
		all = append(all, out.FreeTierUsages...)
		if out.NextToken == "" {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

// APIError is an error the API answered. It has the methods the SDK's
// retryer and smithy.APIError callers look for.
type APIError struct {
	Op      string
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("Free Tier API %s: %s (HTTP %d): %s", e.Op, e.Code, e.Status, e.Message)
}

// ErrorCode is the error's shape name, such as AccessDeniedException.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is the message the API sent.
func (e *APIError) ErrorMessage() string { return e.Message }

// HTTPStatusCode lets the retryer retry 5xx answers.
func (e *APIError) HTTPStatusCode() int { return e.Status }

// IsAccessDenied reports whether err is the API refusing the caller (no
// IAM permission, or an account the API does not serve).
func IsAccessDenied(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "AccessDeniedException" || ae.Code == "UnrecognizedClientException")
}

// do runs one operation with retries.
func (c *Client) do(ctx context.Context, op string, in, out any) error {
	if c.creds == nil {
		return errors.New("free tier API: no AWS credentials configured")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, CallTimeout)
		defer cancel()
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, op, body, out)
		if err == nil {
			return nil
		}
		if attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			return err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("free tier API %s: %w (after %v)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// once sends one signed request and decodes the answer.
func (c *Client) once(ctx context.Context, op string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("free tier API endpoint %q: %w", c.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("free tier API %s: AWS credentials: %w", op, err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, hash, SigningName, Region, time.Now()); err != nil {
		return fmt.Errorf("free tier API %s: signing: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A transport error: the standard retryer retries connection
		// resets and timeouts it recognises.
		return fmt.Errorf("free tier API %s at %s: %w", op, c.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("free tier API %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return decodeError(op, resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("free tier API %s: the answer is not the documented shape: %w", op, err)
	}
	return nil
}

// decodeError reads an AWS JSON 1.0 error: the shape name in
// X-Amzn-Errortype or the body's __type (either may carry a namespace
// before '#' or a URL after ':'), the text in message or Message.
func decodeError(op string, resp *http.Response, data []byte) error {
	var body struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageC string `json:"Message"`
	}
	_ = json.Unmarshal(data, &body)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = body.Type
	}
	if code == "" {
		code = body.Code
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	msg := body.Message
	if msg == "" {
		msg = body.MessageC
	}
	return &APIError{Op: op, Status: resp.StatusCode, Code: code, Message: msg}
}
