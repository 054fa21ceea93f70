package awsfake

import (
	"fmt"
	"sync"
)

// Budget is one fake cost budget, amounts in USD.
type Budget struct {
	Name       string
	Limit      float64
	Actual     float64
	Forecasted float64
}

// Budgets is an AWS Budgets fake (awsJson 1.1): DescribeBudget for budgets
// added with AddBudget under one account id.
type Budgets struct {
	*JSONService

	// Account is the only account id the fake answers for.
	Account string

	mu      sync.Mutex
	budgets map[string]Budget
}

// NewBudgets returns a Budgets fake for account.
func NewBudgets(account string) *Budgets {
	f := &Budgets{Account: account, budgets: map[string]Budget{}}
	f.JSONService = &JSONService{TargetPrefix: "AWSBudgetServiceGateway", Version: "1.1", Ops: map[string]JSONOp{
		"DescribeBudget": Handle(f.describe),
	}}
	return f
}

// AddBudget creates or replaces a budget.
func (f *Budgets) AddBudget(b Budget) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budgets[b.Name] = b
}

type spendJSON struct {
	Amount string `json:"Amount"`
	Unit   string `json:"Unit"`
}

func usd(v float64) spendJSON { return spendJSON{Amount: fmt.Sprintf("%.2f", v), Unit: "USD"} }

func (f *Budgets) describe(in struct {
	AccountId  string
	BudgetName string
}) (any, error) {
	if len(in.AccountId) != 12 {
		return nil, Errorf("InvalidParameterException", "AccountId must be 12 digits")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.budgets[in.BudgetName]
	if !ok || in.AccountId != f.Account {
		return nil, Errorf("NotFoundException", "Unable to get budget: %s - the budget doesn't exist.", in.BudgetName)
	}
	return map[string]any{"Budget": map[string]any{
		"BudgetName":  b.Name,
		"BudgetType":  "COST",
		"TimeUnit":    "MONTHLY",
		"BudgetLimit": usd(b.Limit),
		"CalculatedSpend": map[string]any{
			"ActualSpend":     usd(b.Actual),
			"ForecastedSpend": usd(b.Forecasted),
		},
	}}, nil
}
