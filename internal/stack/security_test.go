package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// forEachTemplate runs f over both generic templates of every spec.
func forEachTemplate(t *testing.T, f func(t *testing.T, c specCase, g map[string]any)) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		for name, tmpl := range map[string]any{"bootstrap": r.Bootstrap, "main": r.Main} {
			_ = tmpl
			if name == "bootstrap" && r.Bootstrap == nil {
				continue // an image reference has no bootstrap stack
			}
			t.Run(c.name+"/"+name, func(t *testing.T) {
				if name == "bootstrap" {
					f(t, c, generic(t, r.Bootstrap))
				} else {
					f(t, c, generic(t, r.Main))
				}
			})
		}
	}
}

// Nothing is open to the internet but the ingress ports, and only on the
// load balancer.
func TestSecurityNoWorldIngressButTheIngressPorts(t *testing.T) {
	forEachTemplate(t, func(t *testing.T, c specCase, g map[string]any) {
		if n := len(resourcesOfType(g, "AWS::EC2::SecurityGroupIngress")); n > 0 {
			t.Errorf("%d standalone ingress rules: keep rules inside their group where this test sees them", n)
		}
		for id, props := range resourcesOfType(g, "AWS::EC2::SecurityGroup") {
			rules, _ := props["SecurityGroupIngress"].([]any)
			for _, r := range rules {
				rule := r.(map[string]any)
				world := rule["CidrIp"] == "0.0.0.0/0" || rule["CidrIpv6"] == "::/0"
				if !world {
					if rule["SourceSecurityGroupId"] == nil {
						t.Errorf("%s admits %v: only the ingress's security group may be a source", id, rule)
					}
					continue
				}
				from, to := rule["FromPort"], rule["ToPort"]
				ok := id == "LoadBalancerSecurityGroup" && from == to && (from == 80.0 || from == 443.0) && rule["IpProtocol"] == "tcp"
				if !ok {
					t.Errorf("%s opens %v-%v/%v to the world", id, from, to, rule["IpProtocol"])
				}
			}
		}
	})
}

// statements finds every IAM policy statement in a template: role inline
// policies and resource policies (topic policy).
func statements(g map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if st, ok := x["Statement"].([]any); ok {
				for _, s := range st {
					out[where] = append(out[where], s.(map[string]any))
				}
			}
			for k, c := range x {
				walk(where, c)
				_ = k
			}
		case []any:
			for _, c := range x {
				walk(where, c)
			}
		}
	}
	res := g["Resources"].(map[string]any)
	for id, r := range res {
		walk(id, r)
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// ownNoResourceActions are the only actions lowfare's own statements may
// grant on Resource "*": each takes no resource, as the Service
// Authorization Reference says (its "Resource types" column is empty). The
// list is written here, not read from the code, and is deliberately
// shorter than spec.NoResourceActions, which only service.permissions may
// use.
var ownNoResourceActions = map[string]string{
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
	"ecr:GetAuthorizationToken": "the registry login token for the account",
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
	"elasticloadbalancing:DescribeTargetGroups": "the wake controller finds its target group",
	"elasticloadbalancing:DescribeTargetHealth": "the wake controller reads the service's targets",
	"elasticloadbalancing:DescribeListeners":    "the wake controller and reconcile read which target group each listener names",
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsfreetier.html
	"freetier:GetFreeTierUsage": "the daily free tier check reads the account's free tier usage",
}

// fromPermissions reports whether a policy statement is one of the spec's
// service.permissions, as extraPermissions writes them.
func fromPermissions(s *spec.Spec, st map[string]any) bool {
	for _, p := range s.Service.Permissions {
		if fmt.Sprint(asList(st["Action"])) == fmt.Sprint(p.Actions) && fmt.Sprint(asList(st["Resource"])) == fmt.Sprint(p.Resources) {
			return true
		}
	}
	return false
}

// No IAM action is a wildcard, and Resource "*" appears only for actions
// that take no resource: for lowfare's own statements those in
// ownNoResourceActions, for service.permissions those in
// spec.NoResourceActions.
func TestSecurityIAMLeastPrivilege(t *testing.T) {
	for action, reason := range spec.NoResourceActions {
		if reason == "" {
			t.Errorf("%s is allowed on Resource * without a reason", action)
		}
	}
	forEachTemplate(t, func(t *testing.T, c specCase, g map[string]any) {
		for where, sts := range statements(g) {
			for _, st := range sts {
				var actions []string
				for _, a := range asList(st["Action"]) {
					s, _ := a.(string)
					actions = append(actions, s)
					if s == "*" || strings.HasSuffix(s, ":*") || strings.Contains(s, "*") {
						t.Errorf("%s: wildcard action %q", where, s)
					}
				}
				if st["NotAction"] != nil || st["NotResource"] != nil {
					t.Errorf("%s: NotAction/NotResource widen a grant", where)
				}
				allowed, whose := ownNoResourceActions, "lowfare's own statement"
				if fromPermissions(c.spec, st) {
					allowed, whose = spec.NoResourceActions, "service.permissions"
				}
				for _, r := range asList(st["Resource"]) {
					if r != "*" {
						continue
					}
					for _, a := range actions {
						if _, ok := allowed[a]; !ok {
							t.Errorf("%s: %s on Resource \"*\" in %s, and it is not an action without resources there", where, a, whose)
						}
					}
				}
				if st["Effect"] != "Allow" {
					continue
				}
				if p, ok := st["Principal"]; ok && p == "*" {
					t.Errorf("%s: a policy statement allows every principal", where)
				}
			}
		}
		// Lambda permissions: "*" only for an unauthenticated function URL
		// (both grants it needs, the second only through the URL).
		for id, p := range resourcesOfType(g, "AWS::Lambda::Permission") {
			viaURL := p["Action"] == "lambda:InvokeFunctionUrl" && p["FunctionUrlAuthType"] == "NONE" ||
				p["Action"] == "lambda:InvokeFunction" && p["InvokedViaFunctionUrl"] == true
			if p["Principal"] == "*" && !viaURL {
				t.Errorf("%s grants %v to everyone", id, p["Action"])
			}
		}
	})
}

// service.permissions refuses IAM actions and wildcards in any case (IAM
// action names are not case sensitive:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html),
// and Resource "*" except for spec.NoResourceActions.
func TestPermissionsRefused(t *testing.T) {
	const base = "app: links\nenv: dev\nservice:\n  image: .\n  permissions:\n"
	for _, c := range []struct {
		perm string // one service.permissions entry, YAML flow style
		want string // in the error; "" for a spec that loads
	}{
		{"{actions: ['iam:PassRole'], resources: ['arn:aws:iam::123456789012:role/x']}", "is an IAM action"},
		{"{actions: ['IAM:PassRole'], resources: ['arn:aws:iam::123456789012:role/x']}", "IAM:PassRole"},
		{"{actions: ['Iam:PassRole'], resources: ['arn:aws:iam::123456789012:role/x']}", "Iam:PassRole"},
		{"{actions: ['Iam:*'], resources: ['*']}", "Iam:*"},
		{"{actions: ['IAM:*'], resources: ['*']}", "IAM:*"},
		{"{actions: ['s3:Get*'], resources: ['arn:aws:s3:::b/*']}", "is a wildcard action"},
		{"{actions: ['dynamodb:GetItem'], resources: ['*']}", `Resource "*" for dynamodb:GetItem, which takes a resource`},
		{"{actions: ['s3:GetObject'], resources: ['*']}", `Resource "*" for s3:GetObject, which takes a resource`},
		{"{actions: ['cloudwatch:PutMetricData'], resources: ['*']}", ""},
		{"{actions: ['cloudwatch:putmetricdata'], resources: ['*']}", ""},
		{"{actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*']}", ""},
	} {
		_, err := spec.Parse("lowfare.yaml", []byte(base+"    - "+c.perm+"\n"))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.perm, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v; want an error with %q", c.perm, err, c.want)
		}
	}
}

// The task (or function) role gets exactly TableActions(table.access) on
// the table and its indexes, and never a table-level action; the execution role reads secrets only under the app's prefix
// and decrypts only through SSM.
func TestSecurityRolesAreScoped(t *testing.T) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		g := generic(t, r.Main)
		roles := resourcesOfType(g, "AWS::IAM::Role")
		roleID := "TaskRole"
		if !c.spec.ECS() {
			roleID = "FunctionRole"
		}
		role, ok := roles[roleID]
		if !ok {
			t.Fatalf("%s: no %s", c.name, roleID)
		}
		var dynamo []string
		for _, st := range statements(map[string]any{"Resources": map[string]any{roleID: role}})[roleID] {
			acts := asList(st["Action"])
			if s, _ := acts[0].(string); !strings.HasPrefix(s, "dynamodb:") {
				continue
			}
			for _, a := range acts {
				dynamo = append(dynamo, a.(string))
			}
			res := fmt.Sprint(st["Resource"])
			if !strings.Contains(res, "Table Arn") || !strings.Contains(res, "${Table.Arn}/index/*") || len(asList(st["Resource"])) != 2 {
				t.Errorf("%s: DynamoDB granted on %s, want the table and its indexes", c.name, res)
			}
		}
		sort.Strings(dynamo)
		want := TableActions(c.spec.Table.Access)
		for _, a := range dynamo {
			for _, tableLevel := range []string{"CreateTable", "UpdateTable", "DeleteTable", "CreateBackup", "RestoreTable", "UpdateTimeToLive", "TagResource"} {
				if strings.HasSuffix(a, ":"+tableLevel) {
					t.Errorf("%s: %s may %s", c.name, roleID, a)
				}
			}
		}
		if !slices.Equal(dynamo, want) {
			t.Errorf("%s: %s has DynamoDB actions %v, want exactly %v", c.name, roleID, dynamo, want)
		}
		for id, props := range roles {
			for _, st := range statements(map[string]any{"Resources": map[string]any{id: props}})[id] {
				for _, a := range asList(st["Action"]) {
					s := a.(string)
					res := fmt.Sprint(st["Resource"])
					// The daily free tier check's own state parameter, by
					// its exact name, is the one other parameter a role
					// may touch (freetier_check.go).
					ownState := id == "FreeTierRole" && res == "map[Fn::Sub:arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"+FreeTierStateName(c.spec)+"]"
					if strings.HasPrefix(s, "ssm:") && !ownState && !strings.Contains(res, ":parameter"+c.spec.SecretPrefix()+"*") {
						t.Errorf("%s: %s %s on %s, want only %s*", c.name, id, s, res, c.spec.SecretPrefix())
					}
					if s == "kms:Decrypt" && !strings.Contains(fmt.Sprint(st["Condition"]), "kms:ViaService") {
						t.Errorf("%s: %s may decrypt outside SSM", c.name, id)
					}
				}
			}
		}
		if c.spec.ECS() && len(c.spec.Service.Secrets) == 0 && !c.spec.HasDatabase() && strings.Contains(fmt.Sprint(roles["ExecutionRole"]), "ssm:") {
			t.Errorf("%s: SSM access without secrets", c.name)
		}
	}
}

// Task definitions carry no secret value: secrets are SSM parameter ARNs
// under the app's prefix, and no plain variable shares a secret's name.
// An image lowfare builds runs as a non-root user on a read-only root
// filesystem; whenever the root is read-only, /tmp is a writable volume.
func TestSecurityTaskDefinition(t *testing.T) {
	for _, c := range allSpecs(t) {
		if !c.spec.ECS() {
			continue
		}
		g := generic(t, build(t, c.spec).Main)
		for id, td := range resourcesOfType(g, "AWS::ECS::TaskDefinition") {
			for _, cd := range td["ContainerDefinitions"].([]any) {
				cont := cd.(map[string]any)
				user, _ := cont["User"].(string)
				if user != c.spec.Service.User {
					t.Errorf("%s/%s: container user %q, spec says %q", c.name, id, user, c.spec.Service.User)
				}
				if c.spec.Service.LocalPackage() && (user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:")) {
					t.Errorf("%s/%s: container user %q is root", c.name, id, user)
				}
				if c.spec.Service.LocalPackage() && cont["ReadonlyRootFilesystem"] != true {
					t.Errorf("%s/%s: root filesystem is writable", c.name, id)
				}
				tmp := fmt.Sprint(cont["MountPoints"])
				if cont["ReadonlyRootFilesystem"] == true && (!strings.Contains(tmp, "ContainerPath:/tmp") || !strings.Contains(tmp, "ReadOnly:false") || !strings.Contains(fmt.Sprint(td["Volumes"]), "Name:"+tmpVolume)) {
					t.Errorf("%s/%s: read-only root without a writable /tmp volume: mounts %s, volumes %v", c.name, id, tmp, td["Volumes"])
				}
				if cont["Privileged"] == true {
					t.Errorf("%s/%s: privileged container", c.name, id)
				}
				secretNames := map[string]bool{}
				for _, s := range asList(cont["Secrets"]) {
					if s == nil {
						continue
					}
					sec := s.(map[string]any)
					secretNames[sec["Name"].(string)] = true
					from := fmt.Sprint(sec["ValueFrom"])
					if !strings.Contains(from, "arn:${AWS::Partition}:ssm:") || !strings.Contains(from, ":parameter"+c.spec.SecretPrefix()) {
						t.Errorf("%s/%s: secret %v comes from %s, want an SSM parameter ARN under %s", c.name, id, sec["Name"], from, c.spec.SecretPrefix())
					}
				}
				for _, name := range c.spec.Service.Secrets {
					if !secretNames[name] {
						t.Errorf("%s/%s: secret %s is not injected", c.name, id, name)
					}
				}
				for _, e := range asList(cont["Environment"]) {
					env := e.(map[string]any)
					if secretNames[env["Name"].(string)] {
						t.Errorf("%s/%s: %s is both a secret and a plain variable", c.name, id, env["Name"])
					}
				}
			}
		}
	}
}

// A spec that smuggles a secret name into service.env is refused.
func TestSecuritySecretAsPlainVariableRefused(t *testing.T) {
	s := variant(func(s *spec.Spec) { s.Service.Env["ADMIN_TOKEN"] = "hunter2" })
	if _, err := Build(s); err == nil {
		t.Fatal("a secret's name in service.env was accepted")
	}
}

// Encryption and scanning are on everywhere they apply. The table keeps
// DynamoDB's default encryption with the free AWS owned key: SSEEnabled
// true would switch to the billed AWS managed KMS key.
// It is retained on delete and replacement, but not when the first create
// rolls back.
func TestSecurityEncryptionAndScanning(t *testing.T) {
	forEachTemplate(t, func(t *testing.T, c specCase, g map[string]any) {
		for id, p := range resourcesOfType(g, "AWS::DynamoDB::Table") {
			if sse, ok := p["SSESpecification"]; ok {
				t.Errorf("%s: SSESpecification %v: the default AWS owned key is free, a KMS key is billed per request", id, sse)
			}
			res := g["Resources"].(map[string]any)[id].(map[string]any)
			if res["DeletionPolicy"] != "RetainExceptOnCreate" || res["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v; want RetainExceptOnCreate and Retain", id, res["DeletionPolicy"], res["UpdateReplacePolicy"])
			}
		}
		for id, p := range resourcesOfType(g, "AWS::ECR::Repository") {
			scan, _ := p["ImageScanningConfiguration"].(map[string]any)
			if scan["ScanOnPush"] != true {
				t.Errorf("%s: images are not scanned on push", id)
			}
		}
		for id, p := range resourcesOfType(g, "AWS::ElasticLoadBalancingV2::Listener") {
			if p["Protocol"] == "HTTPS" && !strings.Contains(fmt.Sprint(p["SslPolicy"]), "TLS13") {
				t.Errorf("%s: HTTPS without a TLS 1.3 policy", id)
			}
		}
	})
}

// The second example app (examples/guestbook, not links) on each profile:
// the app gets PORT = service.port, its role may Scan and do nothing
// table-level, and on ECS the container health check is lowfare's probe
// on the spec's health path, not a subcommand of the app.
func TestGuestbookTemplates(t *testing.T) {
	for _, c := range guestbookSpecs(t) {
		g := generic(t, build(t, c.spec).Main)
		var env map[string]any
		roleID := "TaskRole"
		if c.spec.ECS() {
			td := resourcesOfType(g, "AWS::ECS::TaskDefinition")["TaskDefinition"]
			cont := td["ContainerDefinitions"].([]any)[0].(map[string]any)
			env = map[string]any{}
			for _, e := range cont["Environment"].([]any) {
				m := e.(map[string]any)
				env[m["Name"].(string)] = m["Value"]
			}
			hc := fmt.Sprint(cont["HealthCheck"].(map[string]any)["Command"])
			if hc != "[CMD "+spec.HealthProbe+" /health]" {
				t.Errorf("%s: container health check %s", c.name, hc)
			}
		} else {
			roleID = "FunctionRole"
			fn := resourcesOfType(g, "AWS::Lambda::Function")["Function"]
			env = fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		}
		if env["PORT"] != "9090" {
			t.Errorf("%s: PORT is %v, want 9090", c.name, env["PORT"])
		}
		if env["TABLE_NAME"] == nil {
			t.Errorf("%s: no TABLE_NAME", c.name)
		}
		role := resourcesOfType(g, "AWS::IAM::Role")[roleID]
		var actions []string
		for _, st := range statements(map[string]any{"Resources": map[string]any{roleID: role}})[roleID] {
			for _, a := range asList(st["Action"]) {
				actions = append(actions, a.(string))
			}
		}
		if !slices.Contains(actions, "dynamodb:Scan") {
			t.Errorf("%s: %s cannot Scan: %v", c.name, roleID, actions)
		}
		for _, a := range actions {
			if strings.HasPrefix(a, "dynamodb:") && (strings.HasSuffix(a, "Table") || strings.Contains(a, "Backup") || strings.Contains(a, "TimeToLive")) && a != "dynamodb:DescribeTable" {
				t.Errorf("%s: %s has the table-level action %s", c.name, roleID, a)
			}
		}
	}
}

// roleActions lists every action the role's policies allow.
func roleActions(t *testing.T, s *spec.Spec, roleID string) []string {
	t.Helper()
	g := generic(t, build(t, s).Main)
	role, ok := resourcesOfType(g, "AWS::IAM::Role")[roleID]
	if !ok {
		t.Fatalf("no %s", roleID)
	}
	var out []string
	for _, st := range statements(map[string]any{"Resources": map[string]any{roleID: role}})[roleID] {
		for _, a := range asList(st["Action"]) {
			out = append(out, a.(string))
		}
	}
	return out
}

// table.access none leaves the app's role without any DynamoDB action
// (and, on ECS with no permissions, without any policy); read-only grants
// no write.
func TestTableAccess(t *testing.T) {
	for _, profile := range []string{spec.ProfileFree, spec.ProfileServerless} {
		roleID := "TaskRole"
		if profile == spec.ProfileServerless {
			roleID = "FunctionRole"
		}
		for _, access := range []string{spec.AccessNone, spec.AccessReadOnly, spec.AccessReadWrite} {
			s := variant(func(s *spec.Spec) {
				s.Profile, s.Table.Access = profile, access
				if profile == spec.ProfileServerless {
					s.Ingress.Kind = spec.IngressURL
				}
			})
			var dynamo []string
			for _, a := range roleActions(t, s, roleID) {
				if strings.HasPrefix(a, "dynamodb:") {
					dynamo = append(dynamo, a)
				}
			}
			switch access {
			case spec.AccessNone:
				if len(dynamo) != 0 {
					t.Errorf("%s/%s: %s has %v", profile, access, roleID, dynamo)
				}
			case spec.AccessReadOnly:
				for _, a := range dynamo {
					if slices.Contains(tableWriteActions, a) {
						t.Errorf("%s/%s: %s may %s", profile, access, roleID, a)
					}
				}
				if !slices.Contains(dynamo, "dynamodb:Scan") || !slices.Contains(dynamo, "dynamodb:GetItem") {
					t.Errorf("%s/%s: %v", profile, access, dynamo)
				}
			default:
				if !slices.Equal(dynamo, TableActions(access)) {
					t.Errorf("%s/%s: %v", profile, access, dynamo)
				}
			}
		}
	}
	g := generic(t, build(t, variant(func(s *spec.Spec) { s.Table.Access = spec.AccessNone })).Main)
	if p := resourcesOfType(g, "AWS::IAM::Role")["TaskRole"]["Policies"]; p != nil {
		t.Errorf("access none, no permissions: the task role still has policies %v", p)
	}
}

// service.permissions become Allow statements on the app's role, as given.
func TestExtraPermissions(t *testing.T) {
	s := variant(func(s *spec.Spec) {
		s.Service.Permissions = []spec.Permission{{Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::uploads/*", "arn:aws:s3:::other/*"}}}
	})
	g := generic(t, build(t, s).Main)
	got := fmt.Sprint(statements(map[string]any{"Resources": map[string]any{"TaskRole": resourcesOfType(g, "AWS::IAM::Role")["TaskRole"]}})["TaskRole"])
	if !strings.Contains(got, "Action:[s3:GetObject] Effect:Allow Resource:[arn:aws:s3:::uploads/* arn:aws:s3:::other/*]") {
		t.Errorf("task role statements: %s", got)
	}
	if slices.Contains(roleActions(t, s, "ExecutionRole"), "s3:GetObject") {
		t.Error("service.permissions reached the execution role")
	}
}

// The execution role pulls from the ECR repository service.image names
// (another account's too), from the app's own repository for an image
// lowfare builds, and needs nothing for a public registry.
func TestPullPermissions(t *testing.T) {
	for image, want := range map[string]string{
		".": "repository/lowfare/links-dev",
		"210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/app:v2":                                                                     "arn:aws:ecr:eu-west-1:210987654321:repository/team/app",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app",
		"public.ecr.aws/nginx/nginx:1.27": "",
		"ghcr.io/acme/app:1":              "",
		"nginx":                           "",
	} {
		s := variant(func(s *spec.Spec) { s.Service.Image = image })
		g := generic(t, build(t, s).Main)
		role := resourcesOfType(g, "AWS::IAM::Role")["ExecutionRole"]
		sts := statements(map[string]any{"Resources": map[string]any{"ExecutionRole": role}})["ExecutionRole"]
		pull := ""
		for _, st := range sts {
			if slices.Contains(asList(st["Action"]), any("ecr:BatchGetImage")) {
				pull = fmt.Sprint(st["Resource"])
			}
		}
		switch {
		case want == "" && (pull != "" || strings.Contains(fmt.Sprint(sts), "ecr:")):
			t.Errorf("%s: a public image, but the execution role has ECR access: %v", image, sts)
		case want != "" && !strings.Contains(pull, want):
			t.Errorf("%s: pulls from %q, want %q", image, pull, want)
		}
	}
}

// The table-access action lists are the ones docs/apps.md promises app
// authors, parsed from its table.access bullets: a grant added or dropped
// in iam.go without the documentation (or the other way round) fails here.
func TestTableActionsMatchAppsDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "apps.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ") // bullets wrap
	bullet := func(access, from, to string) []string {
		t.Helper()
		_, rest, ok := strings.Cut(text, "- `"+access+"`"+from)
		if !ok {
			t.Fatalf("docs/apps.md has no table.access bullet for %s", access)
		}
		list, _, ok := strings.Cut(rest, to)
		if !ok {
			t.Fatalf("docs/apps.md: the %s bullet has no %q", access, to)
		}
		// "the PartiQL actions (Select, Insert, Update, Delete)" names four.
		if pre, inner, ok := strings.Cut(list, "the PartiQL actions ("); ok {
			names, post, _ := strings.Cut(inner, ")")
			var full []string
			for _, n := range strings.Split(names, ", ") {
				full = append(full, "PartiQL"+n)
			}
			list = pre + strings.Join(full, ", ") + post
		}
		var actions []string
		for _, a := range strings.Split(strings.ReplaceAll(list, " and ", ", "), ",") {
			if a = strings.TrimSpace(a); a != "" {
				actions = append(actions, "dynamodb:"+a)
			}
		}
		slices.Sort(actions)
		return actions
	}
	for _, c := range []struct {
		access   string
		from, to string // the list's bounds in the bullet
	}{
		{spec.AccessReadWrite, " (default): ", ", on the table"},
		{spec.AccessReadOnly, ": ", "."},
	} {
		if doc, code := bullet(c.access, c.from, c.to), TableActions(c.access); !slices.Equal(doc, code) {
			t.Errorf("table.access %s: docs/apps.md lists %v, the role gets %v", c.access, doc, code)
		}
	}
	if !strings.Contains(text, "- `none`: no DynamoDB action at all") || TableActions(spec.AccessNone) != nil {
		t.Errorf("table.access none: docs/apps.md promises no DynamoDB action; the role gets %v", TableActions(spec.AccessNone))
	}
}
