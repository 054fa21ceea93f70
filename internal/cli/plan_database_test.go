package cli

import (
	"strings"
	"testing"
)

// plan and cost show the database: its resources under their part, what
// it is, why a sleeping service serves the page, and its price.
func TestPlanAndCostShowTheDatabase(t *testing.T) {
	file := specFile(t, "app: shop\nservice: {count: {min: 0}, idle: {after: 15m}}\ningress: {kind: apigw}\ndatabase: {engine: postgres, pause_after: 15m, max_acu: 2}\nworkload: {active_hours: 40}\n")
	code, stdout, stderr := runCmd(t, "plan", "-f", file)
	for _, want := range []string{
		"\ndatabase\n  AWS::RDS::DBCluster",
		"serve: page, because the spec has a database",
		"database: Aurora PostgreSQL 16.6 Serverless v2: 1 instance, 0 ACU and paused after 15m",
		"database: $3.50 a month (capacity $3.00, storage $0.10, io $0.40; awake 50 h, paused the rest)",
	} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("plan: exit %d, want %q in\n%s%s", code, want, stdout, stderr)
		}
	}
	code, stdout, stderr = runCmd(t, "cost", "-f", file)
	for _, want := range []string{"Aurora Serverless v2 capacity (1 instance(s) x 0.5 ACU, 50 h awake)", "Aurora I/O", "Database awake 50 h a month"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("cost: exit %d, want %q in\n%s%s", code, want, stdout, stderr)
		}
	}
}
