package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// budget is a monthly COST budget in USD: the first alert percentage on
// ACTUAL spend, the others on FORECASTED spend, each to the emails and the
// alarm topic. Budgets without actions are free. It watches the whole
// account's bill, not only this stack: cost-allocation tags take a day to
// activate and would hide the surprise a budget is for.
func (b *builder) budget() {
	props := cfn.Props{
		"Budget": map[string]any{
			"BudgetName":  cfn.Sub(b.n.Budget),
			"BudgetType":  "COST",
			"TimeUnit":    "MONTHLY",
			"BudgetLimit": map[string]any{"Amount": b.s.Budget.MonthlyUSD, "Unit": "USD"},
		},
	}
	if notifications := budgetNotifications(b.s); len(notifications) > 0 {
		props["NotificationsWithSubscribers"] = notifications
	}
	// The topic policy must exist before Budgets checks it may publish.
	b.add(PartBudget, "Budget", "AWS::Budgets::Budget", props).DependsOn = []string{"AlarmTopicPolicy"}
	b.output(OutputBudget, "The AWS Budgets budget", cfn.Sub(b.n.Budget))
}

// budgetNotifications are the budget's alerts with their subscribers.
func budgetNotifications(s *spec.Spec) []any {
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
	return notifications
}

// budgetHash is 6 hex digits of the budget's notifications.
// NotificationsWithSubscribers is create-only
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-budgets-budget.html,
// "Update requires: Replacement"), and CloudFormation creates the
// replacement before it deletes the old budget: under an unchanged name the
// create fails with DuplicateRecordException and the update rolls back.
// With the notifications in the name, a change of budget.emails or
// budget.alert_percent gives the replacement a name of its own. The amount
// is updatable in place and stays out of the hash.
func budgetHash(s *spec.Spec) string {
	data, err := json.Marshal(budgetNotifications(s))
	if err != nil {
		panic(err) // strings, numbers and a Ref: cannot fail
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:6]
}
