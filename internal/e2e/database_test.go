package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The database through the binary on moto: deploy generates the password
// into SSM before the stack, status shows the cluster, destroy keeps its
// data as a final snapshot and --delete-data deletes it.
//
// moto's CloudFormation cannot create AWS::RDS::DBCluster (moto 5.2.1:
// moto/rds/models.py, class DBCluster has no cloudformation_type, so
// moto/cloudformation/parsing.py, parse_resource, skips it, and
// ResourceMap.load's validate_outputs then fails CreateStack with a 500 on
// the outputs that GetAtt it); its AWS::RDS::DBInstance ignores
// DBClusterIdentifier. databaseProxy, in front of the journey's proxy,
// does CloudFormation's part for those resources through moto's RDS API:
// it takes the cluster and its instances out of the main template (their
// GetAtts become the endpoint moto gives the cluster) and creates them as
// the template says, resolving the ssm-secure password from SSM, when the
// change set runs; on the stack's delete it applies the cluster's
// DeletionPolicy Snapshot (a final snapshot, then the delete).
func TestDatabaseJourneyOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("the moto journey builds lowfare and runs it against moto_server; skipped with -short")
	}
	j := newJourney(t)
	ctx := j.ctx(5 * time.Minute)
	image := j.pushImage(ctx, "links", "v1")
	db := &databaseProxy{t: t, target: j.proxy, rds: rds.NewFromConfig(j.cfg), ssm: ssm.NewFromConfig(j.cfg), templates: map[string]string{}}
	j.proxy = db.start()

	f := j.write("lowfare.yaml", "app: links\nenv: dev\nregion: "+region+"\nprofile: free\n"+
		"service:\n  image: "+image+"\n  port: 8080\n  count: {desired: 1, min: 1, max: 2}\n"+
		"ingress: {kind: alb}\ndatabase: {engine: postgres, pause_after: 15m, max_acu: 2}\n"+
		"budget: {monthly_usd: 10, emails: [ops@example.com]}\nalarms: {emails: [ops@example.com]}\n")
	out := j.ok(t, "", "deploy", "-f", f, "--poll", "200ms")
	if !strings.Contains(out, "Creating stack lowfare-links-dev:") {
		t.Fatalf("deploy:\n%s", out)
	}
	j.stackStatus(t, "lowfare-links-dev", "CREATE_COMPLETE")
	pw, err := ssm.NewFromConfig(j.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/lowfare/links/dev/PGPASSWORD"), WithDecryption: aws.Bool(true)})
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(aws.ToString(pw.Parameter.Value)) {
		t.Fatalf("the generated password: %v, %v", pw, err)
	}
	for id, body := range db.templates {
		if strings.Contains(body, aws.ToString(pw.Parameter.Value)) {
			t.Errorf("change set %s carries the password", id)
		}
	}

	out = j.ok(t, "", "status", "-f", f, "--format", "json")
	var st struct {
		Database *struct {
			Cluster   string
			Engine    string
			MinACU    float64 `json:"min_acu"`
			MaxACU    float64 `json:"max_acu"`
			Instances []struct {
				ID           string
				Writer       bool
				PauseUnknown string `json:"pause_unknown"`
			}
		}
		Unavailable map[string]string
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.Database == nil || st.Database.Cluster != "lowfare-links-dev" || st.Database.Engine != "aurora-postgresql" || st.Database.MaxACU != 2 || len(st.Database.Instances) != 1 || !st.Database.Instances[0].Writer {
		t.Fatalf("status database %+v (unavailable %v)\n%s", st.Database, st.Unavailable, out)
	}
	// moto serves CloudWatch only over the query protocol: whether the
	// writer is paused is unknown there, and says so.
	t.Logf("pause state on moto: %s", st.Database.Instances[0].PauseUnknown)
	if text := j.ok(t, "", "status", "-f", f); !strings.Contains(text, "database") || !strings.Contains(text, "lowfare-links-dev") {
		t.Errorf("status text:\n%s", text)
	}

	out = j.ok(t, "", "destroy", "-f", f, "--yes", "--poll", "200ms")
	if !strings.Contains(out, "RDS cluster snapshot lowfare-links-dev-databasecluster-") {
		t.Errorf("destroy does not name the database's final snapshot:\n%s", out)
	}
	j.noStacks(t)
	if _, err := db.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("lowfare-links-dev")}); err == nil {
		t.Error("the cluster survived destroy")
	}
	out = j.ok(t, "", "destroy", "-f", f, "--yes", "--delete-data", "--poll", "200ms")
	if strings.Contains(out, "RDS cluster snapshot") {
		t.Errorf("destroy --delete-data left the snapshot:\n%s", out)
	}
	snaps, err := db.rds.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("lowfare-links-dev"), SnapshotType: aws.String("manual")})
	if err != nil || len(snaps.DBClusterSnapshots) != 0 {
		t.Errorf("snapshots after --delete-data: %v, %v", snaps, err)
	}
}

// databaseProxy plays CloudFormation's part for the database (see
// TestDatabaseJourneyOnMoto) and forwards everything to target.
type databaseProxy struct {
	t         *testing.T
	target    string
	rds       *rds.Client
	ssm       *ssm.Client
	templates map[string]string // change set name -> the template as lowfare sent it
	pending   map[string]any    // the cluster and instances of the last main change set
}

func (p *databaseProxy) start() string {
	client := &http.Client{Timeout: time.Minute}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if form, err := url.ParseQuery(string(body)); err == nil {
				switch form.Get("Action") {
				case "CreateChangeSet":
					if form.Get("StackName") == "lowfare-links-dev" {
						body = []byte(p.takeOut(form).Encode())
					}
				case "ExecuteChangeSet":
					if err := p.create(r.Context()); err != nil {
						http.Error(w, err.Error(), http.StatusBadRequest)
						return
					}
				case "DeleteStack":
					if name := form.Get("StackName"); name == "lowfare-links-dev" || strings.Contains(name, ":stack/lowfare-links-dev/") {
						if err := p.delete(r.Context()); err != nil {
							http.Error(w, err.Error(), http.StatusBadRequest)
							return
						}
					}
				}
			}
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.Header.Del("Content-Length")
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	p.t.Cleanup(srv.Close)
	return srv.URL
}

// endpointFor is the writer endpoint moto gives a cluster of that name,
// known before it exists so that the rewritten template can carry it.
func endpointFor(id string) string { return id + ".cluster-moto." + region + ".rds.amazonaws.com" }

// takeOut removes the cluster and its instances from the main template
// and keeps them for ExecuteChangeSet; what referred to them gets the
// cluster's endpoint, as CloudFormation would resolve it.
func (p *databaseProxy) takeOut(form url.Values) url.Values {
	body := form.Get("TemplateBody")
	p.templates[form.Get("ChangeSetName")] = body
	var tpl map[string]any
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		p.t.Errorf("template: %v", err)
		return form
	}
	res := tpl["Resources"].(map[string]any)
	cl, ok := res["DatabaseCluster"].(map[string]any)
	if !ok {
		return form
	}
	id := cl["Properties"].(map[string]any)["DBClusterIdentifier"].(string)
	p.pending = map[string]any{"DatabaseCluster": cl}
	for _, k := range []string{"DatabaseInstance1", "DatabaseInstance2"} {
		if r, ok := res[k]; ok {
			p.pending[k] = r
			delete(res, k)
		}
	}
	delete(res, "DatabaseCluster")
	if svc, ok := res["Service"].(map[string]any); ok {
		var keep []any
		for _, d := range asAnyList(svc["DependsOn"]) {
			if !strings.HasPrefix(fmt.Sprint(d), "DatabaseInstance") {
				keep = append(keep, d)
			}
		}
		svc["DependsOn"] = keep
	}
	text, _ := json.Marshal(tpl)
	s := string(text)
	s = strings.ReplaceAll(s, `{"Fn::GetAtt":["DatabaseCluster","Endpoint.Address"]}`, `"`+endpointFor(id)+`"`)
	s = strings.ReplaceAll(s, `${DatabaseCluster.Endpoint.Address}`, endpointFor(id))
	s = strings.ReplaceAll(s, `{"Ref":"DatabaseCluster"}`, `"`+id+`"`)
	form.Set("TemplateBody", s)
	return form
}

func asAnyList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case string:
		return []any{x}
	}
	return nil
}

var ssmSecureRef = regexp.MustCompile(`^\{\{resolve:ssm-secure:([a-zA-Z0-9_.\-/]+)(:\d+)?\}\}$`)

// create makes the kept cluster and instances through moto's RDS API, as
// CloudFormation would when the change set runs.
func (p *databaseProxy) create(ctx context.Context) error {
	if p.pending == nil {
		return nil
	}
	defer func() { p.pending = nil }()
	props := p.pending["DatabaseCluster"].(map[string]any)["Properties"].(map[string]any)
	id := props["DBClusterIdentifier"].(string)
	if _, err := p.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}); err == nil {
		return nil
	}
	m := ssmSecureRef.FindStringSubmatch(fmt.Sprint(props["MasterUserPassword"]))
	if m == nil {
		return fmt.Errorf("MasterUserPassword is not an ssm-secure reference")
	}
	pw, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(m[1]), WithDecryption: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("resolving %s: %w", m[0], err)
	}
	sc := props["ServerlessV2ScalingConfiguration"].(map[string]any)
	scaling := &rdstypes.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(sc["MinCapacity"].(float64)), MaxCapacity: aws.Float64(sc["MaxCapacity"].(float64))}
	if v, ok := sc["SecondsUntilAutoPause"].(float64); ok {
		if v < 300 || v > 86400 { // the range RDS takes and moto does not check
			return fmt.Errorf("SecondsUntilAutoPause %v outside 300-86400", v)
		}
		scaling.SecondsUntilAutoPause = aws.Int32(int32(v))
	}
	if _, err := p.rds.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(id), Engine: aws.String(props["Engine"].(string)), EngineVersion: aws.String(props["EngineVersion"].(string)),
		DatabaseName: aws.String(props["DatabaseName"].(string)), MasterUsername: aws.String(props["MasterUsername"].(string)),
		MasterUserPassword: pw.Parameter.Value, ServerlessV2ScalingConfiguration: scaling,
		DeletionProtection: aws.Bool(props["DeletionProtection"].(bool)),
	}); err != nil {
		return err
	}
	for _, k := range []string{"DatabaseInstance1", "DatabaseInstance2"} {
		r, ok := p.pending[k].(map[string]any)
		if !ok {
			continue
		}
		ip := r["Properties"].(map[string]any)
		if _, err := p.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(strings.ToLower(id + "-" + k)), DBClusterIdentifier: aws.String(id),
			DBInstanceClass: aws.String(ip["DBInstanceClass"].(string)), Engine: aws.String(ip["Engine"].(string)),
			PubliclyAccessible: aws.Bool(ip["PubliclyAccessible"].(bool)),
		}); err != nil {
			return err
		}
	}
	return nil
}

// delete applies the cluster's DeletionPolicy Snapshot.
func (p *databaseProxy) delete(ctx context.Context) error {
	id := "lowfare-links-dev"
	out, err := p.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		return nil
	}
	for _, m := range out.DBClusters[0].DBClusterMembers {
		if _, err := p.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: m.DBInstanceIdentifier}); err != nil {
			return err
		}
	}
	_, err = p.rds.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String(id),
		FinalDBSnapshotIdentifier: aws.String(fmt.Sprintf("%s-databasecluster-%d", id, time.Now().UnixNano()))})
	return err
}
