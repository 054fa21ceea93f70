package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// databaseSpecs are the shapes that take a database: both ECS profiles,
// both ingresses, with and without a sleeping service (which then serves
// the waking page), over the price table's regions.
func databaseSpecs() []specCase {
	db := func(profile, ingress, region string, f func(*spec.Spec)) *spec.Spec {
		return variant(func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind, s.Region = profile, ingress, region
			s.Database = &spec.Database{Engine: spec.EnginePostgres, MaxACU: 2}
			if profile == spec.ProfileHA {
				s.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 4}
				s.Table.PITR = true
			} else {
				s.Database.PauseAfter = "15m"
			}
			if f != nil {
				f(s)
			}
		})
	}
	return []specCase{
		{name: "db-free-alb", spec: db(spec.ProfileFree, spec.IngressALB, "us-east-1", nil)},
		{name: "db-free-apigw-idle", spec: db(spec.ProfileFree, spec.IngressAPIGW, "eu-west-1", func(s *spec.Spec) {
			s.Service.Count.Min = 0
			s.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServePage}
			s.Database.PauseAfter, s.Database.MaxACU = "1h30m", 4.5
		})},
		{name: "db-free-no-secrets", spec: db(spec.ProfileFree, spec.IngressALB, "eu-central-1", func(s *spec.Spec) { s.Service.Secrets = nil })},
		{name: "db-ha-alb", spec: db(spec.ProfileHA, spec.IngressALB, "us-west-2", nil)},
		{name: "db-ha-apigw", spec: db(spec.ProfileHA, spec.IngressAPIGW, "us-east-1", nil)},
	}
}

func TestDatabaseTemplatesMatchTheRegistrySchemas(t *testing.T) {
	for _, c := range databaseSpecs() {
		r := build(t, c.spec)
		validate(t, c.name, r.Main)
	}
}

// Nothing outside the VPC reaches the database: no instance is public, the
// security group admits 5432 from the service's tasks' group alone, and
// no other rule opens it.
func TestDatabaseNoPublicAccessOnlyTheService(t *testing.T) {
	for _, c := range databaseSpecs() {
		g := generic(t, build(t, c.spec).Main)
		instances := resourcesOfType(g, "AWS::RDS::DBInstance")
		if len(instances) != len(DatabaseInstances(c.spec)) {
			t.Errorf("%s: %d instances, want %d", c.name, len(instances), len(DatabaseInstances(c.spec)))
		}
		for id, r := range instances {
			props := r
			if props["PubliclyAccessible"] != false {
				t.Errorf("%s: %s PubliclyAccessible = %v, want false (said explicitly)", c.name, id, props["PubliclyAccessible"])
			}
		}
		cluster := resourcesOfType(g, "AWS::RDS::DBCluster")[DatabaseClusterID]
		if v, ok := cluster["PubliclyAccessible"]; ok && v != false {
			t.Errorf("%s: the cluster is public", c.name)
		}
		sgs := cluster["VpcSecurityGroupIds"].([]any)
		if want := []any{map[string]any{"Fn::GetAtt": []any{databaseSGID, "GroupId"}}}; !reflect.DeepEqual(sgs, want) {
			t.Errorf("%s: cluster security groups %v, want only %s", c.name, sgs, databaseSGID)
		}
		sg := resourcesOfType(g, "AWS::EC2::SecurityGroup")[databaseSGID]
		ingress := sg["SecurityGroupIngress"].([]any)
		want := []any{map[string]any{
			"IpProtocol": "tcp", "FromPort": float64(5432), "ToPort": float64(5432),
			"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{"ServiceSecurityGroup", "GroupId"}},
			"Description":           "PostgreSQL from the service's tasks",
		}}
		if !reflect.DeepEqual(ingress, want) {
			t.Errorf("%s: database ingress %v, want 5432 from ServiceSecurityGroup only", c.name, ingress)
		}
		for id, r := range resourcesOfType(g, "AWS::EC2::SecurityGroupIngress") {
			if strings.Contains(fmt.Sprint(r), databaseSGID) {
				t.Errorf("%s: %s opens the database's group too", c.name, id)
			}
		}
		egress := sg["SecurityGroupEgress"].([]any)[0].(map[string]any)
		if egress["CidrIp"] != "127.0.0.1/32" {
			t.Errorf("%s: the database's group lets out %v", c.name, egress)
		}
	}
}

// The password is generated at deploy into SSM; a template holds only the
// ssm-secure reference and the parameter's ARN, never a value, and the
// app gets it as a secret, not a plain variable.
func TestDatabasePasswordInNoTemplate(t *testing.T) {
	for _, c := range databaseSpecs() {
		r := build(t, c.spec)
		g := generic(t, r.Main)
		cluster := resourcesOfType(g, "AWS::RDS::DBCluster")[DatabaseClusterID]
		if got, want := cluster["MasterUserPassword"], "{{resolve:ssm-secure:/lowfare/links/dev/PGPASSWORD}}"; got != want {
			t.Errorf("%s: MasterUserPassword %v, want %s", c.name, got, want)
		}
		if _, ok := cluster["ManageMasterUserPassword"]; ok {
			t.Errorf("%s: the password is both lowfare's and RDS's", c.name)
		}
		body, err := r.Main.JSON()
		if err != nil {
			t.Fatal(err)
		}
		// The one place the parameter's name may appear as text is the
		// dynamic reference; everything else names its ARN.
		if n := strings.Count(string(body), "resolve:ssm-secure"); n != 1 {
			t.Errorf("%s: %d ssm-secure references, want the cluster's one", c.name, n)
		}
		task := resourcesOfType(g, "AWS::ECS::TaskDefinition")["TaskDefinition"]
		ctr := task["ContainerDefinitions"].([]any)[0].(map[string]any)
		env := map[string]any{}
		for _, e := range ctr["Environment"].([]any) {
			env[e.(map[string]any)["Name"].(string)] = e.(map[string]any)["Value"]
		}
		for _, name := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE", "DATABASE_URL"} {
			if _, ok := env[name]; !ok {
				t.Errorf("%s: the task has no %s", c.name, name)
			}
		}
		if _, ok := env["PGPASSWORD"]; ok {
			t.Errorf("%s: PGPASSWORD is a plain variable", c.name)
		}
		if env["PGPORT"] != "5432" || env["PGDATABASE"] != "links" || env["PGUSER"] != "lowfare" || env["PGSSLMODE"] != "require" {
			t.Errorf("%s: %v", c.name, env)
		}
		url := fmt.Sprint(env["DATABASE_URL"])
		if !strings.Contains(url, "postgres://lowfare@${DatabaseCluster.Endpoint.Address}:5432/links?sslmode=require") {
			t.Errorf("%s: DATABASE_URL %s", c.name, url)
		}
		found := false
		for _, sec := range ctr["Secrets"].([]any) {
			m := sec.(map[string]any)
			if m["Name"] == "PGPASSWORD" && strings.Contains(fmt.Sprint(m["ValueFrom"]), ":parameter/lowfare/links/dev/PGPASSWORD") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: PGPASSWORD is not injected from SSM: %v", c.name, ctr["Secrets"])
		}
		// The execution role may read it even when the app has no secret
		// of its own.
		if exec := roleActions(t, c.spec, "ExecutionRole"); !contains(exec, "ssm:GetParameters") {
			t.Errorf("%s: the execution role cannot read the password: %v", c.name, exec)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// free pauses at 0 ACU after pause_after with one instance; ha is Multi-AZ
// (two instances, one per subnet's zone), never pauses, has deletion
// protection and a week of backups; both keep a final snapshot.
func TestDatabaseProfiles(t *testing.T) {
	for _, c := range databaseSpecs() {
		g := generic(t, build(t, c.spec).Main)
		r := g["Resources"].(map[string]any)[DatabaseClusterID].(map[string]any)
		props := r["Properties"].(map[string]any)
		scaling := props["ServerlessV2ScalingConfiguration"].(map[string]any)
		if r["DeletionPolicy"] != "Snapshot" || r["UpdateReplacePolicy"] != "Snapshot" {
			t.Errorf("%s: policies %v/%v, want a final snapshot", c.name, r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
		if scaling["MaxCapacity"] != c.spec.Database.MaxACU {
			t.Errorf("%s: MaxCapacity %v", c.name, scaling["MaxCapacity"])
		}
		instances := resourcesOfType(g, "AWS::RDS::DBInstance")
		switch c.spec.Profile {
		case spec.ProfileFree:
			want := c.spec.Database.PauseAfterDuration().Seconds()
			if scaling["MinCapacity"] != float64(0) || scaling["SecondsUntilAutoPause"] != want || want < 300 || want > 86400 {
				t.Errorf("%s: scaling %v, want 0 ACU and a pause after %v s (300-86400)", c.name, scaling, want)
			}
			if props["DeletionProtection"] != false || len(instances) != 1 {
				t.Errorf("%s: deletion protection %v, %d instances", c.name, props["DeletionProtection"], len(instances))
			}
		case spec.ProfileHA:
			if _, ok := scaling["SecondsUntilAutoPause"]; ok || scaling["MinCapacity"] != 0.5 {
				t.Errorf("%s: ha pauses: %v", c.name, scaling)
			}
			if props["DeletionProtection"] != true || props["BackupRetentionPeriod"] != float64(7) {
				t.Errorf("%s: deletion protection %v, backups %v days", c.name, props["DeletionProtection"], props["BackupRetentionPeriod"])
			}
			zones := map[string]bool{}
			for _, inst := range instances {
				zones[fmt.Sprint(inst["AvailabilityZone"])] = true
			}
			if len(instances) != 2 || len(zones) != 2 {
				t.Errorf("%s: %d instances in %d zones, want 2 in 2 (Multi-AZ)", c.name, len(instances), len(zones))
			}
		}
	}
}

// Without a database nothing changes: no part, no PG variables.
func TestNoDatabaseNoDatabaseParts(t *testing.T) {
	r := build(t, variant(func(*spec.Spec) {}))
	for _, e := range r.Entries {
		if e.Part == PartDatabase {
			t.Errorf("a spec without a database has %s", e.LogicalID)
		}
	}
	body, _ := r.Main.JSON()
	if bytes.Contains(body, []byte("PGHOST")) {
		t.Error("a spec without a database sets PGHOST")
	}
}

// cfn-lint, the independent oracle, finds nothing in any template with a
// database, in the region each is built for.
func TestCfnLintDatabase(t *testing.T) {
	lint := testutil.CfnLint(t)
	dir := t.TempDir()
	canary := filepath.Join(dir, "lint-canary.json")
	if err := os.WriteFile(canary, []byte(lintCanary), 0o644); err != nil {
		t.Fatal(err)
	}
	// One cfn-lint run for all (about half a second of CPU per template);
	// every spec's region is given, and the canary must be reported.
	files, regions := []string{}, []string{}
	for _, c := range databaseSpecs() {
		body, err := build(t, c.spec).Main.JSON()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, c.name+".json")
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if !contains(regions, c.spec.Region) {
			regions = append(regions, c.spec.Region)
		}
	}
	var stdout bytes.Buffer
	args := append([]string{"--format", "json", "--include-checks", "I", "--regions"}, regions...)
	cmd := exec.Command(lint, append(append(args, "--"), append(files, canary)...)...)
	cmd.Stdout = &stdout
	_ = cmd.Run() // non-zero whenever there are findings (the canary's)
	var got []cfnLintFinding
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, stdout.String())
	}
	sawCanary := false
	for _, fd := range got {
		if filepath.Base(fd.Filename) == "lint-canary.json" {
			sawCanary = sawCanary || isCanaryFinding(fd)
			continue
		}
		if known := knownInformational[fd.Rule.Id]; fd.Level == "Informational" && known != nil && known(fd.Location.Path) {
			continue
		}
		t.Errorf("cfn-lint %s: %s %s at %v: %s", filepath.Base(fd.Filename), fd.Level, fd.Rule.Id, fd.Location.Path, fd.Message)
	}
	if !sawCanary {
		t.Fatalf("cfn-lint did not report the canary's misspelt property: it is not checking")
	}
}
