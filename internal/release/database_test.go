package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

// clusterStandIn plays CloudFormation's part for the database on moto.
//
// moto's CloudFormation (moto 5.2.1) cannot create AWS::RDS::DBCluster:
// moto/rds/models.py, class DBCluster (line 494 on this machine kind),
// defines no cloudformation_type or create_from_cloudformation_json, so
// moto/cloudformation/parsing.py, parse_resource, warns "not supported by
// moto's CloudFormation implementation" and skips it; the stack's Outputs
// that GetAtt the cluster then crash moto's validate_outputs (parsing.py,
// ResourceMap.load: "'NoneType' object has no attribute 'has_cfn_attr'"),
// so CreateStack answers 500. Its AWS::RDS::DBInstance model ignores
// DBClusterIdentifier. So the stacks run on the project's CloudFormation
// fake (internal/awsfake), and this stand-in, in front of it, does what
// CloudFormation does with the template's database resources through
// moto's RDS API, which has clusters, instances and snapshots:
//   - on ExecuteChangeSet, it resolves the cluster's ssm-secure dynamic
//     reference from SSM (the parameter must exist and be a SecureString:
//     "ssm-secure, for secure strings stored in AWS Systems Manager
//     Parameter Store",
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html)
//     and creates the cluster and its instances; it refuses, as RDS does
//     and moto does not (moto takes SecondsUntilAutoPause 10), a pause
//     outside "300 seconds (five minutes) and 86,400 seconds (one day)",
//     a maximum of 0.5 ACU or less, and 0 ACU on an engine version before
//     the auto-pause line (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html);
//   - on DeleteStack, the cluster's DeletionPolicy Snapshot: "CloudFormation
//     creates a snapshot for the resource before deleting it"
//     (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html):
//     the instances go, then the cluster with a final snapshot; a cluster
//     with deletion protection fails the delete.
type clusterStandIn struct {
	t     *testing.T
	inner http.Handler
	rds   *rds.Client
	ssm   *ssm.Client

	mu        sync.Mutex
	templates map[string]string // change set name -> main template
	failures  []string
}

func (s *clusterStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	ctx := r.Context()
	switch form.Get("Action") {
	case "CreateChangeSet":
		if form.Get("StackName") == "lowfare-links-dev" {
			s.mu.Lock()
			s.templates[form.Get("ChangeSetName")] = form.Get("TemplateBody")
			s.mu.Unlock()
		}
	case "ExecuteChangeSet":
		s.mu.Lock()
		body := s.templates[changeSetName(form.Get("ChangeSetName"))]
		s.mu.Unlock()
		if body != "" {
			if err := s.create(ctx, body); err != nil {
				s.fail(err)
				writeCFNError(w, err)
				return
			}
		}
	case "DeleteStack":
		if form.Get("StackName") == "lowfare-links-dev" || strings.Contains(form.Get("StackName"), "/lowfare-links-dev/") {
			if err := s.delete(ctx); err != nil {
				s.fail(err)
				writeCFNError(w, err)
				return
			}
		}
	}
	// The form was read: hand the inner fake a body of its own.
	r.Body = http.NoBody
	r2 := r.Clone(ctx)
	r2.Body = nopCloser{strings.NewReader(form.Encode())}
	r2.ContentLength = int64(len(form.Encode()))
	s.inner.ServeHTTP(w, r2)
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func (s *clusterStandIn) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, err.Error())
}

func writeCFNError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>%s</Message></Error></ErrorResponse>`, err)
}

// changeSetName is the name within a change set ARN, or the name given.
func changeSetName(ref string) string {
	if i := strings.LastIndex(ref, ":changeSet/"); i >= 0 {
		name, _, _ := strings.Cut(ref[i+len(":changeSet/"):], "/")
		return name
	}
	return ref
}

var ssmSecure = regexp.MustCompile(`^\{\{resolve:ssm-secure:([a-zA-Z0-9_.\-/]+)(:\d+)?\}\}$`)

// minAutoPauseVersion is the first version of each Aurora PostgreSQL major
// version whose minimum capacity may be 0, from "Aurora Serverless v2
// capacity" in
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html.
var minAutoPauseVersion = map[int]int{13: 15, 14: 12, 15: 7, 16: 3}

func (s *clusterStandIn) create(ctx context.Context, body string) error {
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		return err
	}
	cl, ok := tpl.Resources[stack.DatabaseClusterID]
	if !ok {
		return nil
	}
	p := cl.Properties
	id := p["DBClusterIdentifier"].(string)
	if _, err := s.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}); err == nil {
		return nil // an update: the cluster exists
	}
	m := ssmSecure.FindStringSubmatch(fmt.Sprint(p["MasterUserPassword"]))
	if m == nil {
		return fmt.Errorf("MasterUserPassword %q is not an ssm-secure dynamic reference", p["MasterUserPassword"])
	}
	par, err := s.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(m[1]), WithDecryption: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("resolving %s: %w", m[0], err)
	}
	if par.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		return fmt.Errorf("%s is a %s, not a SecureString", m[1], par.Parameter.Type)
	}
	sc := p["ServerlessV2ScalingConfiguration"].(map[string]any)
	minACU, maxACU := sc["MinCapacity"].(float64), sc["MaxCapacity"].(float64)
	if maxACU <= 0.5 || maxACU > 256 {
		return fmt.Errorf("MaxCapacity %v: must be higher than 0.5 and at most 256", maxACU)
	}
	scaling := &rdstypes.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(minACU), MaxCapacity: aws.Float64(maxACU)}
	if v, ok := sc["SecondsUntilAutoPause"]; ok {
		secs := int32(v.(float64))
		if secs < 300 || secs > 86400 {
			return fmt.Errorf("SecondsUntilAutoPause %d: must be between 300 and 86400", secs)
		}
		scaling.SecondsUntilAutoPause = aws.Int32(secs)
	}
	version := p["EngineVersion"].(string)
	if minACU == 0 {
		major, minor, _ := strings.Cut(version, ".")
		mj, _ := strconv.Atoi(major)
		mn, _ := strconv.Atoi(minor)
		if first, ok := minAutoPauseVersion[mj]; !ok || mn < first {
			return fmt.Errorf("MinCapacity 0 needs an engine version with auto-pause; %s has none", version)
		}
	}
	_, err = s.rds.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier:              aws.String(id),
		Engine:                           aws.String(p["Engine"].(string)),
		EngineVersion:                    aws.String(version),
		DatabaseName:                     aws.String(p["DatabaseName"].(string)),
		Port:                             aws.Int32(int32(p["Port"].(float64))),
		MasterUsername:                   aws.String(p["MasterUsername"].(string)),
		MasterUserPassword:               par.Parameter.Value,
		ServerlessV2ScalingConfiguration: scaling,
		StorageEncrypted:                 aws.Bool(p["StorageEncrypted"].(bool)),
		BackupRetentionPeriod:            aws.Int32(int32(p["BackupRetentionPeriod"].(float64))),
		DeletionProtection:               aws.Bool(p["DeletionProtection"].(bool)),
		CopyTagsToSnapshot:               aws.Bool(p["CopyTagsToSnapshot"].(bool)),
	})
	if err != nil {
		return err
	}
	for _, logical := range []string{"DatabaseInstance1", "DatabaseInstance2"} {
		inst, ok := tpl.Resources[logical]
		if !ok {
			continue
		}
		ip := inst.Properties
		if _, err := s.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(strings.ToLower(id + "-" + logical)),
			DBClusterIdentifier:  aws.String(id),
			DBInstanceClass:      aws.String(ip["DBInstanceClass"].(string)),
			Engine:               aws.String(ip["Engine"].(string)),
			PubliclyAccessible:   aws.Bool(ip["PubliclyAccessible"].(bool)),
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *clusterStandIn) delete(ctx context.Context) error {
	id := "lowfare-links-dev"
	out, err := s.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		return nil // no cluster (already gone, or never made)
	}
	if aws.ToBool(out.DBClusters[0].DeletionProtection) {
		return fmt.Errorf("cannot delete protected Cluster %s, please disable deletion protection and try again", id)
	}
	for _, m := range out.DBClusters[0].DBClusterMembers {
		if _, err := s.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: m.DBInstanceIdentifier}); err != nil {
			return err
		}
	}
	_, err = s.rds.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{
		DBClusterIdentifier:       aws.String(id),
		FinalDBSnapshotIdentifier: aws.String("lowfare-links-dev-databasecluster-snapshot-" + strconv.FormatInt(time.Now().UnixNano(), 36)),
	})
	return err
}

// The database on moto's RDS, through the whole release: deploy writes
// the password to SSM before the stack (once), no template holds it, the
// cluster is what the template says, status tells a paused writer,
// destroy keeps the data as a final snapshot and --delete-data deletes
// it, and ha's deletion protection stops destroy before anything goes.
func TestDatabaseReleaseOnMoto(t *testing.T) {
	moto := testutil.Moto(t)
	standIn := &clusterStandIn{t: t, templates: map[string]string{}}
	w, clients := newWorld(t, map[string]string{"RDS": moto, "CLOUDFORMATION": awsfake.Serve(t, standIn)})
	standIn.inner, standIn.rds, standIn.ssm = w.cfn, clients.RDS, clients.SSM
	ctx := testCtx(t)
	spec := func(profile, extra string) string {
		return "app: links\nenv: dev\nregion: us-east-1\nprofile: " + profile + "\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n" + extra
	}
	r := mustRelease(t, spec("free", "database: {engine: postgres, pause_after: 15m, max_acu: 2}\n"))
	rn := newRunner(clients, noImages{t}, &record{})

	if _, err := rn.Deploy(ctx, r); err != nil {
		t.Fatalf("deploy: %v (stand-in: %v)", err, standIn.failures)
	}
	name := "/lowfare/links/dev/PGPASSWORD"
	pw := parameter(t, ctx, clients, name)
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(pw) {
		t.Errorf("generated password %q: want 32 letters and digits", pw)
	}
	for id, body := range standIn.templates {
		if strings.Contains(body, pw) {
			t.Errorf("change set %s's template holds the password", id)
		}
	}
	if _, err := rn.Deploy(ctx, r); err != nil {
		t.Fatal(err)
	}
	if again := parameter(t, ctx, clients, name); again != pw {
		t.Error("a second deploy changed the password; the cluster keeps the first")
	}

	// Status: the cluster as the template made it, its writer paused
	// (capacity 0, as CloudWatch reports a paused instance; moto has no
	// such metric, so the reading is the double's).
	zero := func(context.Context, string) (float64, time.Time, error) { return 0, time.Now(), nil }
	st, err := ops.GetDatabaseStatus(ctx, clients.RDS, zero, r.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cluster != "lowfare-links-dev" || st.Engine != "aurora-postgresql" || st.MinACU != 0 || st.MaxACU != 2 || st.PauseAfterSeconds != 900 || len(st.Instances) != 1 || !st.Instances[0].Writer {
		t.Errorf("database status %+v", st)
	}
	if d := st.Describe(); !strings.Contains(d, "pauses after 15m without connections") || !strings.Contains(d, "writer lowfare-links-dev-databaseinstance1 available") || !strings.Contains(d, "paused (0 ACU") {
		t.Errorf("status line: %s", d)
	}
	half := func(context.Context, string) (float64, time.Time, error) { return 0.5, time.Now(), nil }
	if st, _ := ops.GetDatabaseStatus(ctx, clients.RDS, half, r.Spec); !strings.Contains(st.Describe(), "awake at 0.5 ACU") {
		t.Errorf("awake: %s", st.Describe())
	}

	// destroy keeps the data as the final snapshot; --delete-data deletes it.
	inv, err := rn.TakeStock(ctx, r.Spec)
	if err != nil || inv.Database == nil || inv.Database.Cluster != "lowfare-links-dev" {
		t.Fatalf("inventory %+v, %v", inv, err)
	}
	done, err := rn.Destroy(ctx, inv, false)
	if err != nil {
		t.Fatalf("destroy: %v (stand-in: %v)", err, standIn.failures)
	}
	left := rn.Remains(ctx, inv, done)
	if len(left.DatabaseSnapshots) != 1 || !strings.HasPrefix(left.DatabaseSnapshots[0], "lowfare-links-dev-databasecluster-snapshot-") {
		t.Fatalf("after destroy the database's data is %v, want its final snapshot", left.DatabaseSnapshots)
	}
	if _, err := ops.GetDatabaseStatus(ctx, clients.RDS, zero, r.Spec); err == nil {
		t.Error("the cluster survived destroy")
	}
	inv, err = rn.TakeStock(ctx, r.Spec)
	if err != nil || inv.Empty() {
		t.Fatalf("with the snapshot kept, the inventory is %+v (%v); want not empty", inv, err)
	}
	done, err = rn.Destroy(ctx, inv, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.DeletedSnapshots) != 1 {
		t.Errorf("destroy --delete-data deleted %v", done.DeletedSnapshots)
	}
	if left := rn.Remains(ctx, inv, done); len(left.DatabaseSnapshots) != 0 {
		t.Errorf("after --delete-data: %v", left.DatabaseSnapshots)
	}

	// moto keeps the automated snapshot it made at CreateDBCluster
	// ("rds:<cluster>-<minute>", moto/rds/models.py, create_db_cluster)
	// after the cluster is gone, and a new cluster of the same name in the
	// same minute then fails with DBClusterSnapshotAlreadyExistsFault; AWS
	// deletes automated backups with the cluster. Remove it as AWS would.
	autos, err := clients.RDS.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	for _, sn := range autos.DBClusterSnapshots {
		if _, err := clients.RDS.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: sn.DBClusterSnapshotIdentifier}); err != nil {
			t.Fatal(err)
		}
	}

	// ha: deletion protection stops destroy before anything is deleted.
	ha := mustRelease(t, spec("ha", "database: {engine: postgres, max_acu: 4}\n"))
	if _, err := rn.Deploy(ctx, ha); err != nil {
		t.Fatalf("deploy ha: %v (stand-in: %v)", err, standIn.failures)
	}
	st, err = ops.GetDatabaseStatus(ctx, clients.RDS, zero, ha.Spec)
	if err != nil || !st.DeletionProtection || st.MinACU != 0.5 || len(st.Instances) != 2 {
		t.Fatalf("ha database %+v, %v", st, err)
	}
	inv, err = rn.TakeStock(ctx, ha.Spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, deleteData := range []bool{false, true} {
		_, err = rn.Destroy(ctx, inv, deleteData)
		if err == nil || !strings.Contains(err.Error(), "deletion protection on") || !strings.Contains(err.Error(), "nothing was deleted") {
			t.Errorf("destroy (delete data %v) of an ha database: %v", deleteData, err)
		}
	}
	if status, ok := w.cfn.StackStatus("lowfare-links-dev"); !ok || strings.HasPrefix(status, "DELETE") {
		t.Errorf("the ha stack is %q after a refused destroy", status)
	}
}

// The stand-in enforces what moto does not: an ssm-secure reference to a
// parameter that does not exist, or a pause outside AWS's range, fails.
func TestClusterStandInEnforcesTheRules(t *testing.T) {
	moto := testutil.Moto(t)
	awsfake.UseEndpoints(t, map[string]string{"RDS": moto, "SSM": moto})
	cfg, err := awsconf.Load(testCtx(t), awsconf.Options{Region: "us-east-1", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	c := awsconf.NewClients(cfg)
	s := &clusterStandIn{t: t, rds: c.RDS, ssm: c.SSM}
	tpl := func(secs string) string {
		return `{"Resources":{"DatabaseCluster":{"Type":"AWS::RDS::DBCluster","Properties":{"DBClusterIdentifier":"lowfare-x-dev","Engine":"aurora-postgresql","EngineVersion":"16.6","DatabaseName":"x","Port":5432,"MasterUsername":"lowfare","MasterUserPassword":"{{resolve:ssm-secure:/lowfare/x/dev/PGPASSWORD}}","ServerlessV2ScalingConfiguration":{"MinCapacity":0,"MaxCapacity":2,"SecondsUntilAutoPause":` + secs + `},"StorageEncrypted":true,"BackupRetentionPeriod":1,"DeletionProtection":false,"CopyTagsToSnapshot":true}}}}`
	}
	ctx := testCtx(t)
	if err := s.create(ctx, tpl("900")); err == nil || !strings.Contains(err.Error(), "resolving") {
		t.Errorf("a missing parameter: %v", err)
	}
	if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lowfare/x/dev/PGPASSWORD"), Value: aws.String("abcdefgh12345678"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	if err := s.create(ctx, tpl("299")); err == nil || !strings.Contains(err.Error(), "between 300 and 86400") {
		t.Errorf("a 299 s pause: %v", err)
	}
	if err := s.create(ctx, strings.Replace(tpl("900"), `"16.6"`, `"16.1"`, 1)); err == nil || !strings.Contains(err.Error(), "auto-pause") {
		t.Errorf("0 ACU on 16.1: %v", err)
	}
	if err := s.create(ctx, tpl("900")); err != nil {
		t.Errorf("a valid cluster: %v", err)
	}
}

func parameter(t *testing.T, ctx context.Context, c *awsconf.Clients, name string) string {
	t.Helper()
	out, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if out.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("%s is a %s, want a SecureString", name, out.Parameter.Type)
	}
	return aws.ToString(out.Parameter.Value)
}
