package stack

import (
	"fmt"
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

// No IAM action is a wildcard, and Resource "*" appears only for the actions
// allowlisted with their reason.
func TestSecurityIAMLeastPrivilege(t *testing.T) {
	for action, reason := range WildcardResourceActions {
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
				for _, r := range asList(st["Resource"]) {
					if r != "*" {
						continue
					}
					for _, a := range actions {
						if _, ok := WildcardResourceActions[a]; !ok {
							t.Errorf("%s: %s on Resource \"*\" is not allowlisted", where, a)
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

// The task (or function) role gets exactly TableActions on the table and
// its indexes; the execution role reads secrets only under the app's prefix
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
		want := append([]string(nil), TableActions...)
		sort.Strings(want)
		if !slices.Equal(dynamo, want) {
			t.Errorf("%s: %s has DynamoDB actions %v, want exactly %v", c.name, roleID, dynamo, want)
		}
		for id, props := range roles {
			for _, st := range statements(map[string]any{"Resources": map[string]any{id: props}})[id] {
				for _, a := range asList(st["Action"]) {
					s := a.(string)
					res := fmt.Sprint(st["Resource"])
					if strings.HasPrefix(s, "ssm:") && !strings.Contains(res, ":parameter"+c.spec.SecretPrefix()+"*") {
						t.Errorf("%s: %s %s on %s, want only %s*", c.name, id, s, res, c.spec.SecretPrefix())
					}
					if s == "kms:Decrypt" && !strings.Contains(fmt.Sprint(st["Condition"]), "kms:ViaService") {
						t.Errorf("%s: %s may decrypt outside SSM", c.name, id)
					}
				}
			}
		}
		if c.spec.ECS() && len(c.spec.Service.Secrets) == 0 && strings.Contains(fmt.Sprint(roles["ExecutionRole"]), "ssm:") {
			t.Errorf("%s: SSM access without secrets", c.name)
		}
	}
}

// Task definitions carry no secret value: secrets are SSM parameter ARNs
// under the app's prefix, and no plain variable shares a secret's name.
// The container runs as a non-root user on a read-only root filesystem.
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
				if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
					t.Errorf("%s/%s: container user %q is root", c.name, id, user)
				}
				if cont["ReadonlyRootFilesystem"] != true {
					t.Errorf("%s/%s: root filesystem is writable", c.name, id)
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
// true would switch to the billed AWS managed KMS key (issue 9, item 12).
// It is retained on delete and replacement, but not when the first create
// rolls back (item 3).
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
