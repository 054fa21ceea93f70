package ci

import (
	"regexp"
	"strings"
	"testing"
)

// The IAM side of resource scoping, evaluated here the way IAM does it, since
// no emulator on this machine evaluates Resource (moto checks actions only).
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html:
// "You can use wildcard characters (* and ?) within any ARN segment (the
// parts separated by colons) to represent: Any combination of characters
// (*), Any single character (?)", and "If the * wildcard is the last
// character of a resource ARN segment, it can expand to match beyond the
// colon boundaries." Policy variables (${aws:username} and the like,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
// are replaced by request values before matching; lowfare's patterns use
// none: their ${AWS::...} are CloudFormation pseudo parameters that Fn::Sub
// fills in when the stack is created, which pseudo() does here.

const (
	evalAccount   = "123456789012"
	evalRegion    = "us-east-1"
	evalPartition = "aws"
)

// pseudo fills in the CloudFormation pseudo parameters of a pattern, and
// fails on any variable left: IAM would read it as a policy variable.
func pseudo(t *testing.T, pattern string) string {
	t.Helper()
	p := strings.NewReplacer("${AWS::Partition}", evalPartition, "${AWS::Region}", evalRegion, "${AWS::AccountId}", evalAccount).Replace(pattern)
	if strings.Contains(p, "${") {
		t.Fatalf("pattern %q holds a variable that is not a pseudo parameter", pattern)
	}
	return p
}

// arnMatches reports whether IAM's Resource pattern matches arn: segment by
// segment (arn:partition:service:region:account:resource), * and ? inside
// a segment, and a trailing * running on past the segment's end.
func arnMatches(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	ps := strings.SplitN(pattern, ":", 6)
	as := strings.SplitN(arn, ":", 6)
	if len(ps) != 6 || len(as) != 6 {
		return false
	}
	for i := range 6 {
		if strings.HasSuffix(ps[i], "*") && i < 5 {
			// may run past the colon: match the rest of the ARN as one
			rest := strings.Join(as[i:], ":")
			if glob(strings.Join(ps[i:], ":"), rest) {
				return true
			}
		}
		if !glob(ps[i], as[i]) {
			return false
		}
	}
	return true
}

// glob matches s against a pattern of * (any run) and ? (any one
// character), everything else literal and case-sensitive (ARNs are).
func glob(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(s)
}

func TestGlobFollowsTheIAMReference(t *testing.T) {
	for _, c := range []struct {
		pattern, arn string
		want         bool
	}{
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b", true},
		{"arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/ab", false},
		{"arn:aws:s3:::bucket/??", "arn:aws:s3:::bucket/ab", true},
		{"arn:aws:ssm:us-east-1:1:parameter/a/*", "arn:aws:ssm:us-east-1:2:parameter/a/b", false},
		{"arn:aws:ssm:*:1:parameter/a", "arn:aws:ssm:eu-west-1:1:parameter/a", true},
		{"arn:aws:ecr:us-east-1:1:repository/lowfare/links-dev", "arn:aws:ecr:us-east-1:1:repository/lowfare/links-dev2", false},
		{"arn:aws:lambda:us-east-1:1:function:f*", "arn:aws:lambda:us-east-1:1:function:f:alias", true},
		{"*", "arn:aws:iam::1:user/x", true},
	} {
		if got := arnMatches(c.pattern, c.arn); got != c.want {
			t.Errorf("%s vs %s: %v, want %v", c.pattern, c.arn, got, c.want)
		}
	}
}

// allowed reports whether some deploy statement allows action on arn
// (conditions are tested on their own).
func allowed(t *testing.T, st []Statement, action, arn string) bool {
	for _, s := range st {
		has := false
		for _, a := range s.Actions {
			if strings.EqualFold(a, action) {
				has = true
			}
		}
		if !has {
			continue
		}
		for _, r := range s.Resources {
			if arnMatches(pseudo(t, r), arn) {
				return true
			}
		}
	}
	return false
}

// TestDeployRoleReachesThisAppOnly evaluates the deploy role's statements
// against the ARNs lowfare's calls touch: this app's stacks, repository,
// parameters, wake function and preview tables match; another app's,
// another environment's and another account's do not.
func TestDeployRoleReachesThisAppOnly(t *testing.T) {
	s := mustSpec(t, matrix["free-apigw-idle"]) // app links, env dev, idle: a wake function
	st, err := DeployStatements(s, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	cfn := func(stack string) string {
		return "arn:aws:cloudformation:us-east-1:" + evalAccount + ":stack/" + stack + "/2f0b9c70-0000-11ef-8d3e-0a1b2c3d4e5f"
	}
	ecr := func(repo string) string { return "arn:aws:ecr:us-east-1:" + evalAccount + ":repository/" + repo }
	ssm := func(name string) string { return "arn:aws:ssm:us-east-1:" + evalAccount + ":parameter" + name }
	fn := func(name string) string { return "arn:aws:lambda:us-east-1:" + evalAccount + ":function:" + name }
	table := func(name string) string { return "arn:aws:dynamodb:us-east-1:" + evalAccount + ":table/" + name }
	stackActions := []string{"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:DeleteStack"}
	ecrActions := []string{"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:BatchGetImage"}

	type check struct {
		actions []string
		arn     string
		want    bool
	}
	checks := []check{
		{stackActions, cfn("lowfare-links-dev"), true},
		{stackActions, cfn("lowfare-links-dev-bootstrap"), true},
		{stackActions, cfn("lowfare-links-pr-42"), true},
		{stackActions, cfn("lowfare-links-pr-42-bootstrap"), true},
		{ecrActions, ecr("lowfare/links-dev"), true},
		{ecrActions, ecr("lowfare/links-pr-42"), true},
		{[]string{"ssm:GetParameters"}, ssm("/lowfare/links/dev/ADMIN_TOKEN"), true},
		{[]string{"ssm:GetParameters"}, ssm("/lowfare/links/pr-42/ADMIN_TOKEN"), true},
		{[]string{"lambda:InvokeFunction"}, fn("lowfare-links-dev-wake"), true},
		{[]string{"lambda:InvokeFunction"}, fn("lowfare-links-pr-42-wake"), true},
		{[]string{"dynamodb:DeleteTable"}, table("lowfare-links-pr-42-Table-1A2B3C4D5E6F"), true},
		{[]string{"dynamodb:DescribeTable"}, table("lowfare-links-dev-Table-1A2B3C4D5E6F"), true},

		// Another app, another environment, another account.
		{stackActions, cfn("lowfare-other-dev"), false},
		{stackActions, cfn("lowfare-linksx-dev"), false},
		{stackActions, cfn("lowfare-links-prod"), false},
		{stackActions, cfn("lowfare-links-devx"), false},
		{stackActions, cfn("lowfare-links-dev-ci"), false},
		{stackActions, "arn:aws:cloudformation:us-east-1:210987654321:stack/lowfare-links-dev/x", false},
		{ecrActions, ecr("lowfare/other-dev"), false},
		{ecrActions, ecr("lowfare/links-prod"), false},
		{ecrActions, ecr("links"), false},
		{[]string{"ssm:GetParameters"}, ssm("/lowfare/other/dev/ADMIN_TOKEN"), false},
		{[]string{"ssm:GetParameters"}, ssm("/lowfare/links/prod/ADMIN_TOKEN"), false},
		{[]string{"ssm:GetParameters"}, ssm("/lowfare/links2/dev/ADMIN_TOKEN"), false},
		{[]string{"lambda:InvokeFunction"}, fn("lowfare-other-dev-wake"), false},
		{[]string{"lambda:InvokeFunction"}, fn("lowfare-links-dev-other"), false},
		// The branch's own table is never deleted from CI, nor another app's.
		{[]string{"dynamodb:DeleteTable"}, table("lowfare-links-dev-Table-1A2B3C4D5E6F"), false},
		{[]string{"dynamodb:DeleteTable"}, table("lowfare-other-pr-42-Table-1A2B3C4D5E6F"), false},
		// Nothing outside the app.
		{[]string{"iam:CreateUser", "iam:PutRolePolicy", "iam:PassRole"}, "arn:aws:iam::" + evalAccount + ":role/admin", false},
		{[]string{"s3:GetObject"}, "arn:aws:s3:::any-bucket/key", false},
	}
	for _, c := range checks {
		for _, a := range c.actions {
			if got := allowed(t, st, a, c.arn); got != c.want {
				t.Errorf("%s on %s: allowed %v, want %v", a, c.arn, got, c.want)
			}
		}
	}
}
