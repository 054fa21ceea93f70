package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
)

// budget is a monthly COST budget in USD: the first alert percentage on
// ACTUAL spend, the others on FORECASTED spend, each to the emails and the
// alarm topic. Budgets without actions are free. It watches the whole
// account's bill, not only this stack: cost-allocation tags take a day to
// activate and would hide the surprise a budget is for.
func (b *builder) budget() {
	s := b.s
	var notifications []any
	for i, pct := range s.Budget.AlertPercent {
		kind := "FORECASTED"
		if i == 0 {
			kind = "ACTUAL"
		}
		subscribers := []any{map[string]any{"SubscriptionType": "SNS", "Address": cfn.Ref("AlarmTopic")}}
		for _, email := range uniqueSorted(s.Budget.Emails) {
			subscribers = append(subscribers, map[string]any{"SubscriptionType": "EMAIL", "Address": email})
		}
		notifications = append(notifications, map[string]any{
			"Notification": map[string]any{
				"NotificationType":   kind,
				"ComparisonOperator": "GREATER_THAN",
				"Threshold":          pct,
				"ThresholdType":      "PERCENTAGE",
			},
			"Subscribers": subscribers,
		})
	}
	props := cfn.Props{
		"Budget": map[string]any{
			"BudgetName":  b.n.Budget,
			"BudgetType":  "COST",
			"TimeUnit":    "MONTHLY",
			"BudgetLimit": map[string]any{"Amount": s.Budget.MonthlyUSD, "Unit": "USD"},
		},
	}
	if len(notifications) > 0 {
		props["NotificationsWithSubscribers"] = notifications
	}
	// The topic policy must exist before Budgets checks it may publish.
	b.add(PartBudget, "Budget", "AWS::Budgets::Budget", props).DependsOn = []string{"AlarmTopicPolicy"}
}
