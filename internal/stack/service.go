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
	s, n := b.s, b.n
	b.add(PartService, "Cluster", "AWS::ECS::Cluster", cfn.Props{
		"ClusterName": n.Cluster,
		// Container Insights bills its metrics; the dashboard uses the free
		// service metrics instead.
		"ClusterSettings":   []any{map[string]any{"Name": "containerInsights", "Value": "disabled"}},
		"CapacityProviders": []any{"FARGATE", "FARGATE_SPOT"},
	})

	b.add(PartService, "TaskDefinition", "AWS::ECS::TaskDefinition", cfn.Props{
		"Family":                  n.Family,
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

	b.add(PartService, "ServiceSecurityGroup", "AWS::EC2::SecurityGroup", cfn.Props{
		"GroupDescription": fmt.Sprintf("%s tasks: the ingress only", n.Prefix),
		"VpcId":            cfn.Ref("Vpc"),
		"SecurityGroupIngress": []any{map[string]any{
			"IpProtocol":            "tcp",
			"FromPort":              s.Service.Port,
			"ToPort":                s.Service.Port,
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

	subnets := []any{cfn.Ref(publicSubnets[0])}
	if s.Profile == spec.ProfileHA {
		subnets = bothSubnets()
	}
	provider := "FARGATE"
	if s.Service.Spot {
		provider = "FARGATE_SPOT"
	}
	props := cfn.Props{
		"ServiceName":    n.Service,
		"Cluster":        cfn.Ref("Cluster"),
		"TaskDefinition": cfn.Ref("TaskDefinition"),
		"DesiredCount":   b.counts().desired,
		"CapacityProviderStrategy": []any{map[string]any{
			"CapacityProvider": provider,
			"Weight":           1,
		}},
		"NetworkConfiguration": map[string]any{
			"AwsvpcConfiguration": map[string]any{
				// A public IP instead of a NAT gateway: see network.go.
				"AssignPublicIp": "ENABLED",
				"Subnets":        subnets,
				"SecurityGroups": []any{cfn.Ref("ServiceSecurityGroup")},
			},
		},
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

	b.output(OutputCluster, "The ECS cluster", cfn.Ref("Cluster"))
	b.output(OutputService, "The ECS service", cfn.GetAtt("Service", "Name"))
	b.output(OutputURL, "Where the app answers", b.urlValue)
}

// container is the one container of the task: non-root, read-only root
// filesystem, logs to the log group, health checked by its own binary,
// TABLE_NAME and the plain environment, secrets by SSM parameter ARN.
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
		// internal/image builds the image with this user (distroless's
		// nonroot); the task definition enforces it for any image.
		"User":                   "65532:65532",
		"ReadonlyRootFilesystem": true,
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
	if b.n.BinaryPath != "" {
		// The image has no shell: the binary checks itself (links
		// healthcheck requests its own /healthz).
		h := s.Service.Health
		c["HealthCheck"] = map[string]any{
			"Command":     []any{"CMD", b.n.BinaryPath, "healthcheck"},
			"Interval":    h.Interval,
			"Timeout":     h.Timeout,
			"Retries":     h.Unhealthy,
			"StartPeriod": h.Grace,
		}
	}
	return c
}

// environment is TABLE_NAME and the spec's plain variables, sorted.
func (b *builder) environment() []any {
	env := []any{map[string]any{"Name": "TABLE_NAME", "Value": cfn.Ref("Table")}}
	keys := slices.Sorted(maps.Keys(b.s.Service.Env))
	for _, k := range keys {
		env = append(env, map[string]any{"Name": k, "Value": b.s.Service.Env[k]})
	}
	return env
}

// secrets are the SSM parameters ECS injects as environment variables.
func (b *builder) secrets() []any {
	names := append([]string(nil), b.s.Service.Secrets...)
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, name := range names {
		out = append(out, map[string]any{"Name": name, "ValueFrom": b.secretARN(name)})
	}
	return out
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
