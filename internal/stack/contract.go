package stack

// The names below are the contract between the templates and the packages
// that deploy and operate them (internal/deploy, internal/ops): parameters
// the deploy passes in, outputs it reads back. Change them only together.
const (
	// ParamImageURI is the main stack's parameter holding the image by
	// digest (repo@sha256:...), so a code-only deploy changes one property.
	ParamImageURI = "ImageUri"

	// ParamInitialCount is the ECS service's task count when the stack is
	// created; deploy passes it only on the change set that creates the
	// stack (CreateParameters), and an empty value leaves DesiredCount out
	// of the service, so an update keeps the running count.
	ParamInitialCount = "InitialDesiredCount"

	// Bootstrap stack outputs.
	OutputRepositoryURI  = "RepositoryUri"
	OutputRepositoryName = "RepositoryName"

	// Main stack outputs; OutputURL is printed first after a deploy.
	OutputURL          = "URL"
	OutputCluster      = "ClusterName"
	OutputService      = "ServiceName"
	OutputFunction     = "FunctionName" // profile serverless only
	OutputTable        = "TableName"
	OutputLogGroup     = "LogGroupName"
	OutputDashboardURL = "DashboardURL"
	OutputTargetGroup  = "TargetGroupArn" // ingress alb only
	OutputAlarmTopic   = "AlarmTopicArn"
	OutputBudget       = "BudgetName"
)
