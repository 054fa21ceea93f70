package ci

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// callRoots are the packages whose code runs on the CI path (deploy, plan
// --check, status, diff, destroy, secrets set and rm of a preview).
var callRoots = []string{"../release", "../deploy", "../ops", "../awsconf", "../image"}

// iamPrefix is the IAM service prefix of each SDK client package.
var iamPrefix = map[string]string{
	"acm": "acm", "applicationautoscaling": "application-autoscaling", "budgets": "budgets",
	"cloudformation": "cloudformation", "cloudwatch": "cloudwatch", "cloudwatchlogs": "logs", "costexplorer": "ce",
	"dynamodb": "dynamodb", "ecr": "ecr", "ecs": "ecs", "elbv2": "elasticloadbalancing",
	"iam": "iam", "lambda": "lambda", "rds": "rds", "route53": "route53", "ssm": "ssm", "sts": "sts",
}

// actionOf is where an API operation's IAM action has another name
// (the Service Authorization Reference lists each).
var actionOf = map[string]string{
	"lambda:Invoke":          "lambda:InvokeFunction",
	"budgets:DescribeBudget": "budgets:ViewBudget",
}

// offThePath are the calls of those packages that the workflow never
// makes, each with the command that does: the deploy role has no need
// for them.
var offThePath = map[string]string{
	"ecs:UpdateService": "lowfare scale, sleep, wake",
	"application-autoscaling:RegisterScalableTarget":   "lowfare scale, sleep, wake",
	"application-autoscaling:DescribeScheduledActions": "lowfare scale, sleep, wake",
	"logs:FilterLogEvents":                             "lowfare logs",
	// status --costs only (a paid call); the workflow runs plain status.
	"ce:GetCostAndUsage": "lowfare status --costs",
	// A migration from CI would run these; the workflow runs none, and
	// ci.md says what to add for one.
	"ecs:RunTask":                "lowfare run",
	"ecs:StopTask":               "lowfare run",
	"ecs:DescribeTaskDefinition": "lowfare run",
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html:
	// "No permissions are required to perform this operation."
	"sts:GetCallerIdentity": "needs no permission",
}

// pushActions are what go-containerregistry's push to ECR calls through the
// registry API, where no SDK input names them: the actions ECR requires
// to push an image
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html),
// with BatchGetImage and GetDownloadUrlForLayer for the manifest and blob
// reads of the push and the live tag.
var pushActions = []string{
	"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
	"ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
}

// TestDeployActionsAreLowfaresCalls reads every AWS SDK call in the code
// of the CI path and holds it against the deploy role: each call is
// allowed (or off the path, for a stated reason), and each allowed action
// is one lowfare calls. A new call fails here until the role allows it or
// says why not; an action nothing calls fails as too wide.
func TestDeployActionsAreLowfaresCalls(t *testing.T) {
	input := regexp.MustCompile(`&([a-z0-9]+)\.([A-Za-z]+)Input\b`)
	called := map[string]string{} // action -> a file that calls it
	for _, root := range callRoots {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range input.FindAllStringSubmatch(string(b), -1) {
				prefix, ok := iamPrefix[m[1]]
				if !ok {
					continue // not an AWS client package
				}
				a := prefix + ":" + m[2]
				if alt, ok := actionOf[a]; ok {
					a = alt
				}
				called[a] = path
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(called) < 20 {
		t.Fatalf("found only %d calls: %v (did the code move?)", len(called), called)
	}
	// The widest spec: idle (the wake function), a hosted zone, previews;
	// and one with a certificate ARN and an ECR image reference.
	granted := map[string]bool{}
	for _, y := range []string{
		matrix["free-apigw-idle"],
		matrix["free-database"],
		"app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/other:v1, port: 8080}\ningress: {kind: alb, domain: a.example.com, certificate_arn: \"arn:aws:acm:us-east-1:123456789012:certificate/0d7ba3e5-6b8c-4bd3-9a94-3f4c1f1b2f11\"}\n",
	} {
		st, err := DeployStatements(mustSpec(t, y), testOpts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			for _, a := range s.Actions {
				granted[a] = true
			}
		}
	}
	for a, file := range called {
		if _, off := offThePath[a]; !off && !granted[a] {
			t.Errorf("%s calls %s, which the deploy role does not allow: add it to DeployStatements, or to offThePath with the command that makes it", file, a)
		}
	}
	for a := range granted {
		// iam:PassRole is no call: IAM checks it when a change set or a
		// delete passes the service role (RoleARN).
		if _, ok := called[a]; !ok && !slices.Contains(pushActions, a) && a != "iam:PassRole" {
			t.Errorf("the deploy role allows %s, which no code on the CI path calls: remove it", a)
		}
	}
}
