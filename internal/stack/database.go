package stack

import (
	"fmt"
	"strconv"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// PartDatabase is the relational database (spec.Database): Aurora
// PostgreSQL Serverless v2 in the VPC.
const PartDatabase = "database"

// The database's logical IDs, the outputs status and destroy read, and
// the engine it runs.
const (
	DatabaseClusterID  = "DatabaseCluster"
	databaseSGID       = "DatabaseSecurityGroup"
	databaseSubnetsID  = "DatabaseSubnets"
	OutputDatabase     = "DatabaseCluster"  // the cluster's identifier
	OutputDatabaseHost = "DatabaseEndpoint" // PGHOST

	// DatabaseEngine is RDS's name for Aurora PostgreSQL.
	DatabaseEngine = "aurora-postgresql"
	// DatabaseEngineVersion supports 0 ACU with auto-pause: "For Aurora
	// versions that support the Aurora Serverless v2 auto-pause feature,
	// the smallest value that you can use is 0"
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html);
	// the versions are listed under "Aurora Serverless v2 capacity" in
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html
	// (for PostgreSQL 16: 16.3 and later) and, per account and region,
	// by DescribeDBEngineVersions' ServerlessV2FeaturesSupport.MinCapacity
	// being 0. 16.6 is past that line.
	DatabaseEngineVersion = "16.6"
	// DatabaseInstanceClass is Aurora Serverless v2's one instance class.
	DatabaseInstanceClass = "db.serverless"
	// DatabaseHAMinACU is the floor of profile ha, which never pauses:
	// the smallest nonzero capacity.
	DatabaseHAMinACU = 0.5
	// Automated backups kept, in days: 1 on free (the shortest Aurora
	// allows, "Must be a value from 1 to 35", and inside the free backup
	// storage that equals the cluster's size), 7 on ha.
	databaseBackupDaysFree = 1
	databaseBackupDaysHA   = 7
)

// DatabaseInstances are the cluster's instances' logical IDs: the writer,
// and on ha a reader in the other Availability Zone that Aurora promotes
// when the writer's zone fails.
func DatabaseInstances(s *spec.Spec) []string {
	if !s.HasDatabase() {
		return nil
	}
	if s.Profile == spec.ProfileHA {
		return []string{"DatabaseInstance1", "DatabaseInstance2"}
	}
	return []string{"DatabaseInstance1"}
}

// DatabaseClusterName is the cluster's identifier: fixed, so that status,
// destroy and its final snapshot find it without the stack. Aurora keeps
// identifiers lowercase, 1-63 letters, digits and hyphens; the app and env
// patterns keep this within 8+21+1+11.
func DatabaseClusterName(s *spec.Spec) string { return "lowfare-" + s.App + "-" + s.Env }

// database is the relational database: a DB subnet group over the VPC's
// two subnets, a security group admitting only the service's tasks on
// 5432, and an Aurora PostgreSQL Serverless v2 cluster with one
// db.serverless instance (free: 0 ACU and paused after pause_after without
// connections) or two in two Availability Zones (ha: never paused,
// deletion protection, a week of backups).
//
// The password never enters a template: lowfare deploy writes it to the
// SSM SecureString spec.SecretParameter(spec.DatabasePasswordName) before
// the stack (CloudFormation cannot create SecureString parameters), the
// cluster reads it through an ssm-secure dynamic reference, which
// CloudFormation resolves without storing the value ("CloudFormation never
// stores the actual secure string value",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm-secure-strings.html,
// where AWS::RDS::DBCluster MasterUserPassword is among the supported
// properties), and ECS injects it into the task by ARN, like any secret.
func (b *builder) database() {
	s := b.s
	if !s.HasDatabase() || !s.ECS() {
		return
	}
	ha := s.Profile == spec.ProfileHA
	b.add(PartDatabase, databaseSubnetsID, "AWS::RDS::DBSubnetGroup", cfn.Props{
		"DBSubnetGroupDescription": fmt.Sprintf("%s database: the VPC's two subnets", b.n.Prefix),
		"SubnetIds":                bothSubnets(),
	})
	b.add(PartDatabase, databaseSGID, "AWS::EC2::SecurityGroup", cfn.Props{
		"GroupDescription": fmt.Sprintf("%s database: only from the service tasks", b.n.Prefix),
		"VpcId":            cfn.Ref("Vpc"),
		"SecurityGroupIngress": []any{map[string]any{
			"IpProtocol":            "tcp",
			"FromPort":              spec.DatabasePort,
			"ToPort":                spec.DatabasePort,
			"SourceSecurityGroupId": cfn.GetAtt("ServiceSecurityGroup", "GroupId"),
			"Description":           "PostgreSQL from the service's tasks",
		}},
		// No egress: the database answers connections (security groups
		// are stateful) and starts none. Without a rule CloudFormation
		// would keep the default allow-all egress; a loopback-only rule
		// replaces it.
		"SecurityGroupEgress": []any{map[string]any{
			"IpProtocol":  "-1",
			"CidrIp":      "127.0.0.1/32",
			"Description": "none: the database starts no connection",
		}},
	})
	// The service's group lets out only HTTPS; this opens 5432 to the
	// database's group alone. A separate resource, since each group
	// naming the other inline would be a dependency cycle.
	b.add(PartDatabase, "ServiceToDatabase", "AWS::EC2::SecurityGroupEgress", cfn.Props{
		"GroupId":                    cfn.GetAtt("ServiceSecurityGroup", "GroupId"),
		"IpProtocol":                 "tcp",
		"FromPort":                   spec.DatabasePort,
		"ToPort":                     spec.DatabasePort,
		"DestinationSecurityGroupId": cfn.GetAtt(databaseSGID, "GroupId"),
		"Description":                "PostgreSQL to the database",
	})

	scaling := map[string]any{"MaxCapacity": s.Database.MaxACU}
	if ha {
		scaling["MinCapacity"] = DatabaseHAMinACU
	} else {
		// 0 ACU with auto-pause: "You aren't charged for instance capacity
		// while an instance is in the paused state"; SecondsUntilAutoPause
		// is "between 300 seconds (five minutes) and 86,400 seconds (one
		// day)", which spec holds pause_after to
		// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
		scaling["MinCapacity"] = 0
		scaling["SecondsUntilAutoPause"] = int(s.Database.PauseAfterDuration().Seconds())
	}
	backupDays := databaseBackupDaysFree
	if ha {
		backupDays = databaseBackupDaysHA
	}
	cluster := b.add(PartDatabase, DatabaseClusterID, "AWS::RDS::DBCluster", cfn.Props{
		"DBClusterIdentifier":              DatabaseClusterName(s),
		"Engine":                           DatabaseEngine,
		"EngineVersion":                    DatabaseEngineVersion,
		"DatabaseName":                     s.DatabaseName(),
		"Port":                             spec.DatabasePort,
		"MasterUsername":                   spec.DatabaseUser,
		"MasterUserPassword":               DatabasePasswordRef(s),
		"DBSubnetGroupName":                cfn.Ref(databaseSubnetsID),
		"VpcSecurityGroupIds":              []any{cfn.GetAtt(databaseSGID, "GroupId")},
		"ServerlessV2ScalingConfiguration": scaling,
		// Encrypted with the AWS managed key aws/rds: no key to pay for.
		"StorageEncrypted":      true,
		"BackupRetentionPeriod": backupDays,
		"CopyTagsToSnapshot":    true,
		"DeletionProtection":    ha,
	})
	// Deleting the stack (lowfare destroy) or replacing the cluster keeps
	// the data as a final snapshot: "CloudFormation creates a snapshot
	// for the resource before deleting it"
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html);
	// destroy --delete-data deletes that snapshot afterwards.
	cluster.DeletionPolicy = "Snapshot"
	cluster.UpdateReplacePolicy = "Snapshot"

	for i, id := range DatabaseInstances(s) {
		inst := cfn.Props{
			"DBClusterIdentifier": cfn.Ref(DatabaseClusterID),
			"DBInstanceClass":     DatabaseInstanceClass,
			"Engine":              DatabaseEngine,
			// Said explicitly: with a DB subnet group whose subnets route
			// to an internet gateway, an instance that does not say is
			// public ("If the subnets are part of a VPC that has an
			// internet gateway attached to it, the DB instance is
			// public",
			// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
			"PubliclyAccessible": false,
		}
		if ha {
			// One instance per subnet's zone; the reader (tier 1) is the
			// failover target.
			inst["AvailabilityZone"] = cfn.GetAtt(publicSubnets[i], "AvailabilityZone")
			inst["PromotionTier"] = i
		}
		r := b.add(PartDatabase, id, "AWS::RDS::DBInstance", inst)
		// An Aurora instance holds no data (the cluster's storage does,
		// and the cluster keeps a final snapshot), so it is deleted.
		r.DeletionPolicy, r.UpdateReplacePolicy = "Delete", "Delete"
	}
	// Tasks start once the writer answers, not with a host name that
	// does not resolve yet.
	b.dependsOn = append(b.dependsOn, DatabaseInstances(s)[0])

	b.output(OutputDatabase, "The Aurora PostgreSQL cluster", cfn.Ref(DatabaseClusterID))
	b.output(OutputDatabaseHost, "PGHOST: the cluster's writer endpoint", cfn.GetAtt(DatabaseClusterID, "Endpoint.Address"))
}

// DatabasePasswordRef is the cluster's MasterUserPassword: an ssm-secure
// dynamic reference to the parameter lowfare deploy writes, without a
// version (CloudFormation then resolves the latest; the pattern is
// {{resolve:ssm-secure:[a-zA-Z0-9_.\-/]+(:\d+)?}}).
func DatabasePasswordRef(s *spec.Spec) string {
	return "{{resolve:ssm-secure:" + s.SecretParameter(spec.DatabasePasswordName) + "}}"
}

// databaseEnv adds the libpq variables (docs/apps.md, "The database") to
// the task's plain environment; PGPASSWORD is a secret (databaseSecrets).
func (b *builder) databaseEnv(env map[string]any) {
	if !b.s.HasDatabase() || !b.s.ECS() {
		return
	}
	host := cfn.GetAtt(DatabaseClusterID, "Endpoint.Address")
	env["PGHOST"] = host
	env["PGPORT"] = strconv.Itoa(spec.DatabasePort)
	env["PGDATABASE"] = b.s.DatabaseName()
	env["PGUSER"] = spec.DatabaseUser
	env["PGSSLMODE"] = spec.DatabaseSSLMode
	env["DATABASE_URL"] = cfn.Sub(b.s.DatabaseURL("${"+DatabaseClusterID+".Endpoint.Address}", spec.DatabasePort, spec.DatabaseSSLMode))
}

// databaseSecrets are the secret names ECS injects for the database.
func (b *builder) databaseSecrets() []string {
	if !b.s.HasDatabase() || !b.s.ECS() {
		return nil
	}
	return []string{spec.DatabasePasswordName}
}

// DatabaseSummary is plan's line on the database, or "" without one.
func DatabaseSummary(s *spec.Spec) string {
	if !s.HasDatabase() || !s.ECS() {
		return ""
	}
	d := s.Database
	how := fmt.Sprintf("1 instance, 0 ACU and paused after %s without connections (about 15 s to resume), at most %g ACU", d.PauseAfter, d.MaxACU)
	if s.Profile == spec.ProfileHA {
		how = fmt.Sprintf("2 instances in two Availability Zones (Multi-AZ), never paused, %g to %g ACU each, deletion protection, %d days of backups", DatabaseHAMinACU, d.MaxACU, databaseBackupDaysHA)
	}
	return fmt.Sprintf("database: Aurora PostgreSQL %s Serverless v2: %s, cluster %s; reachable only from the service's tasks; password generated into SSM %s by deploy; destroy keeps a final snapshot",
		DatabaseEngineVersion, how, DatabaseClusterName(s), s.SecretParameter(spec.DatabasePasswordName))
}
