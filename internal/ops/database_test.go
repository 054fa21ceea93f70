package ops

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

func motoConfig(url string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDMOTO", "secret", "")}
}

// lowfare status with a database: the cluster (on moto's RDS, created as
// the template makes it) is a part of its own, with its capacity range
// and pause; CloudWatch, which says whether an instance is paused, is a
// fake here that has no metrics, so the pause state is unknown and says
// why, and the rest of the status stands.
func TestStatusShowsTheDatabase(t *testing.T) {
	moto := testutil.Moto(t)
	w := newWorld(t)
	w.spec.Database = &spec.Database{Engine: spec.EnginePostgres, PauseAfter: "15m", MaxACU: 2}
	w.clients.RDS = rds.NewFromConfig(motoConfig(moto))
	w.ECS.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, Running: 1})
	ctx := testCtx(t)
	if _, err := w.clients.RDS.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("lowfare-links-dev"), Engine: aws.String("aurora-postgresql"), EngineVersion: aws.String("16.6"),
		MasterUsername: aws.String("lowfare"), MasterUserPassword: aws.String("abcdefgh12345678"),
		ServerlessV2ScalingConfiguration: &rdstypes.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(0), MaxCapacity: aws.Float64(2), SecondsUntilAutoPause: aws.Int32(900)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.RDS.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("lowfare-links-dev-databaseinstance1"), DBClusterIdentifier: aws.String("lowfare-links-dev"),
		DBInstanceClass: aws.String("db.serverless"), Engine: aws.String("aurora-postgresql"),
	}); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	db := st.Database
	if db == nil {
		t.Fatalf("no database in the status; unavailable: %v", st.Unavailable)
	}
	if db.Cluster != "lowfare-links-dev" || db.MinACU != 0 || db.MaxACU != 2 || db.PauseAfterSeconds != 900 || len(db.Instances) != 1 {
		t.Errorf("database %+v", db)
	}
	if in := db.Instances[0]; !in.Writer || in.Paused != nil || in.PauseUnknown == "" {
		t.Errorf("instance %+v: want the writer with its pause state unknown", in)
	}
	var text bytes.Buffer
	if err := st.WriteText(&text, statusNow); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^database +lowfare-links-dev \S+, aurora-postgresql 16\.6, 0-2 ACU, pauses after 15m without connections; writer lowfare-links-dev-databaseinstance1 available in us-east-1\w: pause state unknown`).MatchString(text.String()) {
		t.Errorf("status text:\n%s", text.String())
	}

	// No cluster: the part is unavailable, the rest stands.
	w.spec.App = "other"
	st, err = GetStatus(ctx, w.clients, w.spec, statusNow)
	if err == nil && (st.Database != nil || !strings.Contains(st.Unavailable["database"], "no database cluster lowfare-other-dev")) {
		t.Errorf("without a cluster: database %+v, unavailable %v", st.Database, st.Unavailable)
	}
}

// The password is generated once, 32 letters and digits, a SecureString;
// a spec without a database writes nothing.
func TestEnsureDatabasePassword(t *testing.T) {
	c := ssm.NewFromConfig(motoConfig(testutil.Moto(t)))
	ctx := testCtx(t)
	s := spec.Default()
	if created, err := EnsureDatabasePassword(ctx, c, s); created || err != nil {
		t.Errorf("no database: created %v, %v", created, err)
	}
	s.Database = &spec.Database{Engine: spec.EnginePostgres, PauseAfter: "15m", MaxACU: 2}
	created, err := EnsureDatabasePassword(ctx, c, s)
	if !created || err != nil {
		t.Fatalf("first: created %v, %v", created, err)
	}
	read := func() string {
		out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/lowfare/links/dev/PGPASSWORD"), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Parameter.Type != "SecureString" {
			t.Errorf("type %s", out.Parameter.Type)
		}
		return aws.ToString(out.Parameter.Value)
	}
	first := read()
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(first) {
		t.Errorf("password %q", first)
	}
	if created, err := EnsureDatabasePassword(ctx, c, s); created || err != nil || read() != first {
		t.Errorf("second: created %v, %v; the password must stay", created, err)
	}
	// lowfare secrets set/rm leave it alone.
	if _, err := SetSecret(ctx, c, s, "PGPASSWORD", "mine"); err == nil || !strings.Contains(err.Error(), "the cluster keeps its own copy") {
		t.Errorf("secrets set PGPASSWORD: %v", err)
	}
	if err := DeleteSecret(ctx, c, s, "PGPASSWORD"); err == nil || read() != first {
		t.Errorf("secrets rm PGPASSWORD: %v", err)
	}
}
