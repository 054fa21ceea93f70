package ops

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// DatabasePasswordLength and its alphabet: Aurora PostgreSQL takes a master
// password of 8 to 128 printable ASCII characters other than /, ", @ and a
// space (MasterUserPassword in
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html);
// letters and digits alone also need no escaping in a URL or a shell.
const (
	DatabasePasswordLength = 32
	passwordAlphabet       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// EnsureDatabasePassword writes a random password to the database's SSM
// SecureString (spec.SecretParameter(spec.DatabasePasswordName)) when it
// does not exist yet, before the stack that reads it; an existing one is
// never changed (the cluster keeps the password it was created with). It
// reports whether it created one. Nothing when the spec has no database.
func EnsureDatabasePassword(ctx context.Context, c *ssm.Client, s *spec.Spec) (created bool, err error) {
	if !s.HasDatabase() || !s.ECS() {
		return false, nil
	}
	name := s.SecretParameter(spec.DatabasePasswordName)
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err == nil {
		return false, nil
	}
	if _, missing := errors.AsType[*ssmtypes.ParameterNotFound](err); !missing {
		return false, fmt.Errorf("the database password %s: %w", name, err)
	}
	pw, err := randomPassword(DatabasePasswordLength)
	if err != nil {
		return false, err
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(name),
		Value:       aws.String(pw),
		Type:        ssmtypes.ParameterTypeSecureString,
		Description: aws.String("lowfare: the database's master password (generated; never change it here, the cluster keeps its own)"),
		Overwrite:   aws.Bool(false),
	})
	if _, exists := errors.AsType[*ssmtypes.ParameterAlreadyExists](err); exists {
		return false, nil // another deploy wrote it first: keep that one
	}
	if err != nil {
		return false, fmt.Errorf("writing the database password %s: %w", name, err)
	}
	return true, nil
}

func randomPassword(n int) (string, error) {
	var b strings.Builder
	size := big.NewInt(int64(len(passwordAlphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, size)
		if err != nil {
			return "", fmt.Errorf("generating the database password: %w", err)
		}
		b.WriteByte(passwordAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// DatabaseStatus is the database part of lowfare status.
type DatabaseStatus struct {
	Cluster            string             `json:"cluster"`
	Status             string             `json:"status"` // the cluster's: available, ...
	Engine             string             `json:"engine"`
	EngineVersion      string             `json:"engine_version"`
	Endpoint           string             `json:"endpoint,omitempty"`
	MinACU             float64            `json:"min_acu"`
	MaxACU             float64            `json:"max_acu"`
	PauseAfterSeconds  int32              `json:"pause_after_seconds,omitempty"`
	DeletionProtection bool               `json:"deletion_protection"`
	Instances          []DatabaseInstance `json:"instances"`
}

// DatabaseInstance is one instance of the cluster and whether it is paused.
type DatabaseInstance struct {
	ID     string `json:"id"`
	Writer bool   `json:"writer"`
	Status string `json:"status"`
	Zone   string `json:"zone,omitempty"`
	// ACU is the latest ServerlessDatabaseCapacity; Paused is ACU == 0
	// (with min 0 ACU an instance is at 0 only while paused). Both nil
	// when CloudWatch could not tell, and PauseUnknown says why.
	ACU          *float64 `json:"acu,omitempty"`
	Paused       *bool    `json:"paused,omitempty"`
	PauseUnknown string   `json:"pause_unknown,omitempty"`
}

// CapacityReader reads an instance's latest ServerlessDatabaseCapacity.
type CapacityReader func(ctx context.Context, instance string) (acu float64, at time.Time, err error)

// CloudWatchCapacity reads ServerlessDatabaseCapacity (AWS/RDS, per
// DBInstanceIdentifier, one-minute points over the last 15 minutes): the
// ACUs the instance runs at, 0 while it is paused ("Aurora Serverless v2
// DB instances scale down to zero ACUs and automatically pause",
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
func CloudWatchCapacity(c *cloudwatch.Client, now func() time.Time) CapacityReader {
	return func(ctx context.Context, instance string) (float64, time.Time, error) {
		end := now()
		out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(end.Add(-15 * time.Minute)),
			EndTime:   aws.Time(end),
			ScanBy:    cwtypes.ScanByTimestampDescending,
			MetricDataQueries: []cwtypes.MetricDataQuery{{
				Id: aws.String("acu"),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  aws.String("AWS/RDS"),
						MetricName: aws.String("ServerlessDatabaseCapacity"),
						Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(instance)}},
					},
					Period: aws.Int32(60),
					Stat:   aws.String("Average"),
				},
			}},
		})
		if err != nil {
			return 0, time.Time{}, err
		}
		for _, r := range out.MetricDataResults {
			if len(r.Values) > 0 && len(r.Timestamps) > 0 {
				return r.Values[0], r.Timestamps[0], nil
			}
		}
		return 0, time.Time{}, errors.New("no ServerlessDatabaseCapacity points in the last 15 minutes")
	}
}

// ErrNoDatabase is returned when the app's cluster does not exist.
var ErrNoDatabase = errors.New("no database cluster")

// GetDatabaseStatus reads the app's cluster (by its fixed identifier,
// stack.DatabaseClusterName) and its instances, and asks capacity whether
// each is paused.
func GetDatabaseStatus(ctx context.Context, c *rds.Client, capacity CapacityReader, s *spec.Spec) (*DatabaseStatus, error) {
	cl, err := describeCluster(ctx, c, stack.DatabaseClusterName(s))
	if err != nil {
		return nil, err
	}
	st := &DatabaseStatus{
		Cluster:            aws.ToString(cl.DBClusterIdentifier),
		Status:             aws.ToString(cl.Status),
		Engine:             aws.ToString(cl.Engine),
		EngineVersion:      aws.ToString(cl.EngineVersion),
		Endpoint:           aws.ToString(cl.Endpoint),
		DeletionProtection: aws.ToBool(cl.DeletionProtection),
		Instances:          []DatabaseInstance{},
	}
	if sc := cl.ServerlessV2ScalingConfiguration; sc != nil {
		st.MinACU, st.MaxACU = aws.ToFloat64(sc.MinCapacity), aws.ToFloat64(sc.MaxCapacity)
		st.PauseAfterSeconds = aws.ToInt32(sc.SecondsUntilAutoPause)
	}
	for _, m := range cl.DBClusterMembers {
		id := aws.ToString(m.DBInstanceIdentifier)
		inst := DatabaseInstance{ID: id, Writer: aws.ToBool(m.IsClusterWriter)}
		out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err == nil && len(out.DBInstances) == 1 {
			inst.Status = aws.ToString(out.DBInstances[0].DBInstanceStatus)
			inst.Zone = aws.ToString(out.DBInstances[0].AvailabilityZone)
		}
		if acu, _, err := capacity(ctx, id); err != nil {
			inst.PauseUnknown = err.Error()
		} else {
			paused := acu == 0
			inst.ACU, inst.Paused = &acu, &paused
		}
		st.Instances = append(st.Instances, inst)
	}
	slices.SortFunc(st.Instances, func(a, b DatabaseInstance) int {
		if a.Writer != b.Writer {
			if a.Writer {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return st, nil
}

func describeCluster(ctx context.Context, c *rds.Client, id string) (*rdstypes.DBCluster, error) {
	out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if _, missing := errors.AsType[*rdstypes.DBClusterNotFoundFault](err); missing {
		return nil, fmt.Errorf("%w %s", ErrNoDatabase, id)
	}
	if err != nil {
		return nil, fmt.Errorf("database cluster %s: %w", id, err)
	}
	if len(out.DBClusters) != 1 {
		return nil, fmt.Errorf("%w %s", ErrNoDatabase, id)
	}
	return &out.DBClusters[0], nil
}

// Describe is the status line of the database.
func (d *DatabaseStatus) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s, %s %s, %g-%g ACU", d.Cluster, d.Status, d.Engine, d.EngineVersion, d.MinACU, d.MaxACU)
	if d.PauseAfterSeconds > 0 && d.MinACU == 0 {
		fmt.Fprintf(&b, ", pauses after %s without connections", spec.DurationText(time.Duration(d.PauseAfterSeconds)*time.Second))
	}
	if d.DeletionProtection {
		b.WriteString(", deletion protection")
	}
	for _, in := range d.Instances {
		role := "reader"
		if in.Writer {
			role = "writer"
		}
		state := "pause state unknown (" + in.PauseUnknown + ")"
		switch {
		case in.Paused != nil && *in.Paused:
			state = "paused (0 ACU, resumes on the next connection in about 15 s)"
		case in.ACU != nil:
			state = fmt.Sprintf("awake at %g ACU", *in.ACU)
		}
		fmt.Fprintf(&b, "; %s %s %s in %s: %s", role, in.ID, in.Status, in.Zone, state)
	}
	return b.String()
}

// DatabaseInventory is what of the app's database exists, for destroy.
type DatabaseInventory struct {
	Cluster            string   // "" when there is none
	DeletionProtection bool     // the cluster's (profile ha)
	Snapshots          []string // the cluster's manual snapshots: destroy's final ones
}

// TakeDatabaseStock reads the app's cluster and its manual snapshots
// (CloudFormation's final snapshot of a deleted stack is one: the
// cluster's DeletionPolicy is Snapshot).
func TakeDatabaseStock(ctx context.Context, c *rds.Client, s *spec.Spec) (*DatabaseInventory, error) {
	inv := &DatabaseInventory{}
	id := stack.DatabaseClusterName(s)
	cl, err := describeCluster(ctx, c, id)
	switch {
	case errors.Is(err, ErrNoDatabase):
	case err != nil:
		return nil, err
	default:
		inv.Cluster, inv.DeletionProtection = id, aws.ToBool(cl.DeletionProtection)
	}
	snaps, err := DatabaseSnapshots(ctx, c, s)
	if err != nil {
		return nil, err
	}
	inv.Snapshots = snaps
	return inv, nil
}

// DatabaseSnapshots lists the manual snapshots of the app's cluster, which
// outlive it.
func DatabaseSnapshots(ctx context.Context, c *rds.Client, s *spec.Spec) ([]string, error) {
	id := stack.DatabaseClusterName(s)
	var out []string
	p := rds.NewDescribeDBClusterSnapshotsPaginator(c, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(id), SnapshotType: aws.String("manual")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("snapshots of database cluster %s: %w", id, err)
		}
		for _, sn := range page.DBClusterSnapshots {
			if aws.ToString(sn.DBClusterIdentifier) == id {
				out = append(out, aws.ToString(sn.DBClusterSnapshotIdentifier))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// CheckDatabaseDeletable refuses a destroy the cluster's deletion
// protection would stop halfway: CloudFormation cannot delete (nor
// snapshot and delete) a cluster with DeletionProtection ("The database
// can't be deleted when deletion protection is enabled", AWS::RDS::DBCluster
// DeletionProtection in the CloudFormation template reference), so the
// stack delete would fail after the service is gone.
func CheckDatabaseDeletable(inv *DatabaseInventory) error {
	if inv == nil || inv.Cluster == "" || !inv.DeletionProtection {
		return nil
	}
	return fmt.Errorf("database cluster %s has deletion protection on (profile ha), which would stop the stack's delete halfway; nothing was deleted. Turn it off first (aws rds modify-db-cluster --db-cluster-identifier %s --no-deletion-protection --apply-immediately), then run lowfare destroy again: the data is kept as a final snapshot", inv.Cluster, inv.Cluster)
}

// DeleteDatabaseSnapshot deletes one of the app's cluster snapshots.
func DeleteDatabaseSnapshot(ctx context.Context, c *rds.Client, id string) error {
	_, err := c.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String(id)})
	if _, gone := errors.AsType[*rdstypes.DBClusterSnapshotNotFoundFault](err); gone {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting database snapshot %s: %w", id, err)
	}
	return nil
}

// databasePasswordGuard refuses to set or delete the database's password
// as a secret: the cluster keeps the password it was created with, so a
// new value would lock the app out, and a deleted one would be generated
// anew (and differ) by the next deploy.
func databasePasswordGuard(s *spec.Spec, name, done string) error {
	if name != spec.DatabasePasswordName || !s.HasDatabase() {
		return nil
	}
	return fmt.Errorf("%s is the database's password, generated by lowfare deploy; the cluster keeps its own copy, so it cannot be %s here (to change it, change the cluster's with aws rds modify-db-cluster --master-user-password and this parameter, %s, together)", name, done, s.SecretParameter(name))
}
