package stack

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// stopTimeout is how long ECS waits after SIGTERM before SIGKILL; the links
// service finishes in-flight requests and flushes clicks within it.
const stopTimeout = 30

// service is the ECS cluster, the task definition and the service: Fargate
// (or Fargate Spot) tasks in the public subnets with a public IP, admitted
// only from the ingress, rolled out with a circuit breaker.
func (b *builder) service() {
	b.cluster()
	b.taskDefinition()
	b.serviceSecurityGroup()
	b.ecsService()

	b.output(OutputCluster, "The ECS cluster", cfn.Ref("Cluster"))
	b.output(OutputService, "The ECS service", cfn.GetAtt("Service", "Name"))
	b.output(OutputURL, "Where the app answers", b.urlValue)
}

// cluster is the ECS cluster, with both Fargate capacity providers.
func (b *builder) cluster() {
	b.add(PartService, "Cluster", "AWS::ECS::Cluster", cfn.Props{
		"ClusterName": b.n.Cluster,
		// Container Insights bills its metrics; the dashboard uses the free
		// service metrics instead.
		"ClusterSettings":   []any{map[string]any{"Name": "containerInsights", "Value": "disabled"}},
		"CapacityProviders": []any{"FARGATE", "FARGATE_SPOT"},
	})
}

// taskDefinition is the Fargate task definition of the one container, with
// a task volume for /tmp when the root filesystem is read-only.
func (b *builder) taskDefinition() {
	s := b.s
	td := b.add(PartService, "TaskDefinition", "AWS::ECS::TaskDefinition", cfn.Props{
		"Family":                  b.n.Family,
		"RequiresCompatibilities": []any{"FARGATE"},
		"NetworkMode":             "awsvpc",
		"Cpu":                     fmt.Sprint(s.Service.CPU),
		"Memory":                  fmt.Sprint(s.Service.Memory),
		"RuntimePlatform": map[string]any{
			"CpuArchitecture":       strings.ToUpper(s.Service.Arch), // ARM64 | X86_64
			"OperatingSystemFamily": "LINUX",
		},
		"ExecutionRoleArn":     cfn.GetAtt("ExecutionRole", "Arn"),
		"TaskRoleArn":          cfn.GetAtt("TaskRole", "Arn"),
		"ContainerDefinitions": []any{b.container()},
	})
	if s.Service.ReadonlyRoot {
		// A bind mount volume with no host path is task storage on
		// Fargate, writable whatever the root filesystem is:
		// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
		td.Properties["Volumes"] = []any{map[string]any{"Name": tmpVolume}}
	}
}

// serviceSecurityGroup admits the service port from the ingress only and
// lets the tasks out to AWS APIs over HTTPS only.
func (b *builder) serviceSecurityGroup() {
	port := b.s.Service.Port
	b.add(PartService, "ServiceSecurityGroup", "AWS::EC2::SecurityGroup", cfn.Props{
		"GroupDescription": fmt.Sprintf("%s tasks: the ingress only", b.n.Prefix),
		"VpcId":            cfn.Ref("Vpc"),
		"SecurityGroupIngress": []any{map[string]any{
			"IpProtocol":            "tcp",
			"FromPort":              port,
			"ToPort":                port,
			"SourceSecurityGroupId": cfn.GetAtt(b.ingressSG, "GroupId"),
			"Description":           "from the ingress",
		}},
		// HTTPS out: ECR, CloudWatch Logs, SSM and DynamoDB are public
		// endpoints (no NAT gateway, no interface endpoints).
		"SecurityGroupEgress": []any{map[string]any{
			"IpProtocol":  "tcp",
			"FromPort":    443,
			"ToPort":      443,
			"CidrIp":      "0.0.0.0/0",
			"Description": "AWS APIs over HTTPS",
		}},
	})
}

// ecsService is the ECS service: its tasks, where they run, how a
// deployment rolls out, and how the ingress reaches them.
func (b *builder) ecsService() {
	s := b.s
	props := cfn.Props{
		"ServiceName":    b.n.Service,
		"Cluster":        cfn.Ref("Cluster"),
		"TaskDefinition": cfn.Ref("TaskDefinition"),
		"DesiredCount":   b.initialCount(),
		"CapacityProviderStrategy": []any{map[string]any{
			"CapacityProvider": b.capacityProvider(),
			"Weight":           1,
		}},
		"NetworkConfiguration": b.taskNetwork(),
		"DeploymentConfiguration": map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
			"MinimumHealthyPercent":    100,
			"MaximumPercent":           200,
		},
		"PropagateTags":        "SERVICE",
		"EnableECSManagedTags": true,
	}
	switch s.Ingress.Kind {
	case spec.IngressAPIGW:
		props["ServiceRegistries"] = b.serviceTargets
	default:
		props["LoadBalancers"] = b.serviceTargets
		props["HealthCheckGracePeriodSeconds"] = s.Service.Health.Grace
	}
	svc := b.add(PartService, "Service", "AWS::ECS::Service", props)
	// The target group must be attached to a listener before the service
	// registers tasks in it, and the tasks need the route to the internet
	// gateway to pull their image (otherwise the first tasks fail and the
	// circuit breaker rolls back a deployment that would have worked).
	svc.DependsOn = append(append([]string(nil), b.dependsOn...), "PublicRoute", publicSubnets[0]+"Routes", publicSubnets[1]+"Routes")
}

// capacityProvider is FARGATE_SPOT when service.spot, FARGATE otherwise.
func (b *builder) capacityProvider() string {
	if b.s.Service.Spot {
		return "FARGATE_SPOT"
	}
	return "FARGATE"
}

// taskNetwork places the tasks in the first public subnet (both with
// profile ha) with a public IP, behind the service security group.
func (b *builder) taskNetwork() map[string]any {
	subnets := []any{cfn.Ref(publicSubnets[0])}
	if b.s.Profile == spec.ProfileHA {
		subnets = bothSubnets()
	}
	return map[string]any{
		"AwsvpcConfiguration": map[string]any{
			// A public IP instead of a NAT gateway: see network.go.
			"AssignPublicIp": "ENABLED",
			"Subnets":        subnets,
			"SecurityGroups": []any{cfn.Ref("ServiceSecurityGroup")},
		},
	}
}

// tmpVolume is the task volume mounted at /tmp when the root filesystem is
// read-only, so that an app (or its libraries) can still write temporary
// files.
const tmpVolume = "tmp"

// container is the one container of the task: service.user (65532 for
// images lowfare builds), a read-only root with a writable /tmp when
// service.readonly_root, logs to the log group, the container health check
// (HealthCheck), PORT, TABLE_NAME and the plain environment, secrets by
// SSM parameter ARN.
func (b *builder) container() map[string]any {
	s := b.s
	c := map[string]any{
		"Name":      b.n.Container,
		"Image":     cfn.Ref(ParamImageURI),
		"Essential": true,
		"PortMappings": []any{map[string]any{
			"ContainerPort": s.Service.Port,
			"Protocol":      "tcp",
		}},
		"ReadonlyRootFilesystem": s.Service.ReadonlyRoot,
		"StopTimeout":            stopTimeout,
		"Environment":            b.environment(),
		"LogConfiguration": map[string]any{
			"LogDriver": "awslogs",
			"Options": map[string]any{
				"awslogs-group":         cfn.Ref("LogGroup"),
				"awslogs-region":        cfn.Ref(cfn.Region),
				"awslogs-stream-prefix": s.App,
			},
		},
	}
	if secrets := b.secrets(); len(secrets) > 0 {
		c["Secrets"] = secrets
	}
	if u := s.Service.User; u != "" {
		// Empty: the image's own user (an image lowfare did not build).
		c["User"] = u
	}
	if s.Service.ReadonlyRoot {
		c["MountPoints"] = []any{map[string]any{"SourceVolume": tmpVolume, "ContainerPath": "/tmp", "ReadOnly": false}}
	}
	if cmd := HealthCheck(s); cmd != nil {
		h := s.Service.Health
		check := make([]any, len(cmd))
		for i, a := range cmd {
			check[i] = a
		}
		c["HealthCheck"] = map[string]any{
			"Command":     check,
			"Interval":    h.Interval,
			"Timeout":     h.Timeout,
			"Retries":     h.Unhealthy,
			"StartPeriod": h.Grace,
		}
	}
	return c
}

// HealthCheck is the container health check command ECS runs: the spec's
// service.health.command when it has one; for an image lowfare builds,
// the static probe it adds (spec.HealthProbe requests
// http://127.0.0.1:$PORT<health.path>, so it works in an image with no
// shell and an app with no health subcommand); nil for an image reference
// without a command (no container health check: the load balancer's HTTP
// check still replaces unhealthy tasks; with apigw, Cloud Map then
// routes to every running task). `lowfare plan` prints which.
func HealthCheck(s *spec.Spec) []string {
	switch {
	case !s.ECS():
		return nil
	case len(s.Service.Health.Command) > 0:
		return slices.Clone(s.Service.Health.Command)
	case s.Service.LocalPackage():
		return []string{"CMD", spec.HealthProbe, s.Service.Health.Path}
	}
	return nil
}

// HealthCheckSummary says in one line which container health check the
// task gets, for `lowfare plan`.
func HealthCheckSummary(s *spec.Spec) string {
	if !s.ECS() {
		return "none (Lambda has no container health check)"
	}
	cmd := HealthCheck(s)
	switch {
	case len(s.Service.Health.Command) > 0:
		return fmt.Sprintf("%q (service.health.command)", cmd)
	case cmd != nil:
		return fmt.Sprintf("%s %s (the probe lowfare adds to the image: GET http://127.0.0.1:$PORT%s, 2xx is healthy)", cmd[1], cmd[2], cmd[2])
	case s.Ingress.Kind == spec.IngressAPIGW:
		return "none: lowfare did not build " + s.Service.Image + " and service.health.command is not set, so Cloud Map sends requests to every running task; set service.health.command"
	}
	return "none: lowfare did not build " + s.Service.Image + " and service.health.command is not set; the load balancer's GET " + s.Service.Health.Path + " check replaces unhealthy tasks"
}

// environment is PORT (service.port, unless service.env sets PORT),
// TABLE_NAME and the spec's plain variables, sorted by name.
func (b *builder) environment() []any {
	vars := b.plainEnv()
	b.databaseEnv(vars)
	env := make([]any, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, map[string]any{"Name": k, "Value": vars[k]})
	}
	return env
}

// plainEnv is every plain variable the app gets, on ECS and Lambda alike:
// the app contract's PORT and TABLE_NAME, then service.env (which may
// replace PORT, never TABLE_NAME: spec refuses it).
func (b *builder) plainEnv() map[string]any {
	env := map[string]any{
		"PORT":       fmt.Sprint(b.s.Service.Port),
		"TABLE_NAME": cfn.Ref("Table"),
	}
	for k, v := range b.s.Service.Env {
		env[k] = v
	}
	return env
}

// secrets are the SSM parameters ECS injects as environment variables.
func (b *builder) secrets() []any {
	names := append(append([]string(nil), b.s.Service.Secrets...), b.databaseSecrets()...)
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, name := range names {
		out = append(out, map[string]any{"Name": name, "ValueFrom": b.secretARN(name)})
	}
	return out
}

// condFirstDeploy holds when deploy passed ParamInitialCount: the change
// set creates the stack.
const condFirstDeploy = "FirstDeploy"

// initialCount is the service's DesiredCount: count.desired when the stack
// is created, and no DesiredCount at all on every later deploy. A Service
// that carries DesiredCount sets the running count to it on each update,
// so a code deploy would reset what Application Auto Scaling, a schedule or
// `lowfare scale` set; "for existing services, if a desired count is not
// specified, it is omitted from the operation", while a new service without
// one would start 1 task
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#cfn-ecs-service-desiredcount).
// Registering the scalable target then keeps the count inside min..max
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
func (b *builder) initialCount() any {
	b.main.Parameters[ParamInitialCount] = &cfn.Parameter{
		Type:           "String",
		Description:    "The service's task count on the stack's first deploy; empty on every later one, which keeps the running count. lowfare deploy sets it.",
		Default:        "",
		AllowedPattern: "^[0-9]*$",
	}
	b.main.Conditions[condFirstDeploy] = cfn.Not(cfn.Equals(cfn.Ref(ParamInitialCount), ""))
	return cfn.If(condFirstDeploy, cfn.Ref(ParamInitialCount), cfn.Ref(cfn.NoValue))
}

// CreateParameters are the main stack's parameters that only the change set
// creating the stack carries (see initialCount); nil for serverless.
func CreateParameters(s *spec.Spec) map[string]string {
	if !s.ECS() {
		return nil
	}
	b := &builder{s: s}
	return map[string]string{ParamInitialCount: fmt.Sprint(b.counts().desired)}
}

// taskCounts are the effective counts: profile ha runs at least two tasks.
type taskCounts struct{ desired, min, max int }

func (b *builder) counts() taskCounts {
	c := b.s.Service.Count
	t := taskCounts{desired: c.Desired, min: c.Min, max: c.Max}
	if b.s.Profile == spec.ProfileHA {
		t.min = max(t.min, 2)
		t.desired = max(t.desired, t.min)
		t.max = max(t.max, t.desired)
	}
	return t
}
