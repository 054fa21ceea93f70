package awsfake

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// FreeTier is an AWS Free Tier API fake (AWS JSON 1.0, X-Amz-Target
// AWSFreeTierService.<Operation>): GetAccountPlanState and
// GetFreeTierUsage, with the shapes and errors of the API reference.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_freetier_GetAccountPlanState.html
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_freetier_GetFreeTierUsage.html
// Requests must be signed for the API's one region and signing name
// (us-east-1, freetier): a client that signs for the app's region is
// refused as AWS refuses it.
type FreeTier struct {
	*JSONService

	mu sync.Mutex
	// Plan is the account's plan; nil answers ResourceNotFoundException.
	plan *FreeTierPlan
	// usage is every offer, in the order pages return them.
	usage []FreeTierUsage
	// deny answers AccessDeniedException to every operation, as AWS does
	// for a caller without freetier:* permissions.
	deny bool
	// PageSize caps a page below the request's maxResults, so tests see
	// nextToken pagination.
	PageSize int
}

// FreeTierPlan is the account plan GetAccountPlanState answers.
type FreeTierPlan struct {
	AccountID  string
	Type       string // FREE | PAID
	Status     string // NOT_STARTED | ACTIVE | EXPIRED
	CreditsUSD *float64
	// ExpiresEpoch is the plan's end in epoch seconds (0: none).
	ExpiresEpoch float64
}

// FreeTierUsage is one offer and its use this month, in the API's JSON
// names.
type FreeTierUsage struct {
	Service      string  `json:"service"`
	Operation    string  `json:"operation,omitempty"`
	UsageType    string  `json:"usageType"`
	Region       string  `json:"region,omitempty"`
	Actual       float64 `json:"actualUsageAmount"`
	Forecast     float64 `json:"forecastedUsageAmount"`
	Limit        float64 `json:"limit"`
	Unit         string  `json:"unit"`
	Description  string  `json:"description"`
	FreeTierType string  `json:"freeTierType"`
}

// NewFreeTier returns a Free Tier fake with no plan and no usage.
func NewFreeTier() *FreeTier {
	f := &FreeTier{}
	f.JSONService = &JSONService{TargetPrefix: "AWSFreeTierService", Version: "1.0", Ops: map[string]JSONOp{
		"GetAccountPlanState": Handle(f.planState),
		"GetFreeTierUsage":    Handle(f.getUsage),
	}}
	return f
}

// SetPlan sets the account plan.
func (f *FreeTier) SetPlan(p *FreeTierPlan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan = p
}

// SetUsage replaces the offers and their usage.
func (f *FreeTier) SetUsage(u ...FreeTierUsage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = append([]FreeTierUsage(nil), u...)
}

// Deny makes every operation answer AccessDeniedException (or lifts it).
func (f *FreeTier) Deny(deny bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = deny
}

// ServeHTTP checks the signature's scope, then answers as JSONService.
func (f *FreeTier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/us-east-1/freetier/aws4_request") {
		f.record(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), f.TargetPrefix+"."))
		f.writeError(w, &APIError{Status: http.StatusForbidden, Type: "InvalidSignatureException",
			Message: "Credential should be scoped to a valid region and service: us-east-1/freetier; got Authorization " + strconv.Quote(auth)})
		return
	}
	f.JSONService.ServeHTTP(w, r)
}

func (f *FreeTier) denied() error {
	if f.deny {
		return Errorf("AccessDeniedException", "User: arn:aws:iam::123456789012:user/fake is not authorized to perform this action")
	}
	return nil
}

func (f *FreeTier) planState(struct{}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.denied(); err != nil {
		return nil, err
	}
	p := f.plan
	if p == nil {
		return nil, Errorf("ResourceNotFoundException", "no account plan")
	}
	out := map[string]any{"accountId": p.AccountID, "accountPlanType": p.Type, "accountPlanStatus": p.Status}
	if p.CreditsUSD != nil {
		out["accountPlanRemainingCredits"] = map[string]any{"amount": *p.CreditsUSD, "unit": "USD"}
	}
	if p.ExpiresEpoch > 0 {
		out["accountPlanExpirationDate"] = p.ExpiresEpoch
	}
	return out, nil
}

type freeTierExpr struct {
	And        []freeTierExpr `json:"And"`
	Or         []freeTierExpr `json:"Or"`
	Not        *freeTierExpr  `json:"Not"`
	Dimensions *struct {
		Key          string   `json:"Key"`
		Values       []string `json:"Values"`
		MatchOptions []string `json:"MatchOptions"`
	} `json:"Dimensions"`
}

// match evaluates the filter on the dimensions this fake knows (SERVICE,
// USAGE_TYPE, REGION, FREE_TIER_TYPE with EQUALS); anything else is a
// ValidationException rather than a silent match.
func (e *freeTierExpr) match(u FreeTierUsage) (bool, error) {
	switch {
	case e.Dimensions != nil:
		d := e.Dimensions
		var v string
		switch d.Key {
		case "SERVICE":
			v = u.Service
		case "USAGE_TYPE":
			v = u.UsageType
		case "REGION":
			v = u.Region
		case "FREE_TIER_TYPE":
			v = u.FreeTierType
		default:
			return false, Errorf("ValidationException", "this fake filters on SERVICE, USAGE_TYPE, REGION, FREE_TIER_TYPE, not %q", d.Key)
		}
		if len(d.MatchOptions) != 1 || d.MatchOptions[0] != "EQUALS" {
			return false, Errorf("ValidationException", "this fake matches EQUALS only, not %v", d.MatchOptions)
		}
		for _, want := range d.Values {
			if v == want {
				return true, nil
			}
		}
		return false, nil
	case e.Not != nil:
		ok, err := e.Not.match(u)
		return !ok, err
	case len(e.And) > 0:
		for _, x := range e.And {
			if ok, err := x.match(u); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case len(e.Or) > 0:
		for _, x := range e.Or {
			if ok, err := x.match(u); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, Errorf("ValidationException", "an Expression needs Dimensions, And, Or or Not")
}

func (f *FreeTier) getUsage(in struct {
	Filter     *freeTierExpr `json:"filter"`
	MaxResults *int          `json:"maxResults"`
	NextToken  string        `json:"nextToken"`
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.denied(); err != nil {
		return nil, err
	}
	size := 1000
	if in.MaxResults != nil {
		// "Valid Range: Minimum value of 1. Maximum value of 1000."
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, Errorf("ValidationException", "maxResults %d: must be 1 to 1000", *in.MaxResults)
		}
		size = *in.MaxResults
	}
	if f.PageSize > 0 && f.PageSize < size {
		size = f.PageSize
	}
	var rows []FreeTierUsage
	for _, u := range f.usage {
		ok := true
		if in.Filter != nil {
			var err error
			if ok, err = in.Filter.match(u); err != nil {
				return nil, err
			}
		}
		if ok {
			rows = append(rows, u)
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(rows) {
			return nil, Errorf("ValidationException", "nextToken %q is not one this API gave", in.NextToken)
		}
		start = n
	}
	end := min(start+size, len(rows))
	out := map[string]any{"freeTierUsages": append([]FreeTierUsage{}, rows[start:end]...)}
	if end < len(rows) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
