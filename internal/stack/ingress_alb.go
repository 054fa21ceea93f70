package stack

import (
	"fmt"

	"github.com/lowfare/lowfare/internal/cfn"
)

// TLSPolicy is the HTTPS listener's security policy: TLS 1.3, with TLS 1.2
// for older clients (AWS's recommended policy; ELBSecurityPolicy-TLS13-1-3
// would refuse every client without TLS 1.3).
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// deregistrationDelay is how long the target group drains a stopping task;
// below ECS's 30 s stop timeout so a task is drained before it is killed.
const deregistrationDelay = 20

// ingressALB is an internet-facing Application Load Balancer in both public
// subnets, a target group of IP targets (awsvpc tasks) and listeners: port
// 80 forwards, or redirects to 443 when TLS is on.
func (b *builder) ingressALB() {
	in := b.s.Ingress
	b.loadBalancerSecurityGroup()
	b.loadBalancer()
	b.targetGroup()
	b.listeners()
	if in.Domain != "" && in.HostedZoneID != "" {
		b.aliasRecord(cfn.GetAtt("LoadBalancer", "DNSName"), cfn.GetAtt("LoadBalancer", "CanonicalHostedZoneID"))
	}
	b.ingressSG = "LoadBalancerSecurityGroup"
	b.serviceTargets = []any{map[string]any{
		"ContainerName":  b.n.Container,
		"ContainerPort":  b.s.Service.Port,
		"TargetGroupArn": cfn.Ref("TargetGroup"),
	}}
	b.urlValue = b.albURL()
	b.output(OutputTargetGroup, "The target group of the tasks", cfn.Ref("TargetGroup"))
}

// loadBalancerSecurityGroup opens HTTP (and HTTPS with TLS) to the world
// and lets the load balancer reach the tasks only.
func (b *builder) loadBalancerSecurityGroup() {
	open := []any{worldIngress(80)}
	if b.s.Ingress.TLS() {
		open = append(open, worldIngress(443))
	}
	b.add(PartIngress, "LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", cfn.Props{
		"GroupDescription":     fmt.Sprintf("%s load balancer: HTTP(S) from anywhere, to the tasks only", b.n.Prefix),
		"VpcId":                cfn.Ref("Vpc"),
		"SecurityGroupIngress": open,
		"SecurityGroupEgress":  toTasksOnly(b.s.Service.Port),
	})
}

// loadBalancer is the internet-facing ALB in both public subnets; it
// waits for the internet gateway's attachment.
func (b *builder) loadBalancer() {
	b.add(PartIngress, "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", cfn.Props{
		"Name":           b.n.LoadBalancer,
		"Type":           "application",
		"Scheme":         "internet-facing",
		"IpAddressType":  "ipv4",
		"Subnets":        bothSubnets(),
		"SecurityGroups": []any{cfn.Ref("LoadBalancerSecurityGroup")},
		"LoadBalancerAttributes": []any{
			kv("routing.http.drop_invalid_header_fields.enabled", "true"),
			kv("idle_timeout.timeout_seconds", "60"),
		},
	}).DependsOn = []string{"GatewayAttachment"}
}

// targetGroup holds the tasks by IP and checks them over HTTP with the
// spec's service.health settings.
func (b *builder) targetGroup() {
	h := b.s.Service.Health
	b.add(PartIngress, "TargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup", cfn.Props{
		"Name":                       b.n.TargetGroup,
		"TargetType":                 "ip",
		"Protocol":                   "HTTP",
		"Port":                       b.s.Service.Port,
		"VpcId":                      cfn.Ref("Vpc"),
		"HealthCheckEnabled":         true,
		"HealthCheckProtocol":        "HTTP",
		"HealthCheckPath":            h.Path,
		"HealthCheckIntervalSeconds": h.Interval,
		"HealthCheckTimeoutSeconds":  h.Timeout,
		"HealthyThresholdCount":      h.Healthy,
		"UnhealthyThresholdCount":    h.Unhealthy,
		"Matcher":                    map[string]any{"HttpCode": "200-399"},
		"TargetGroupAttributes": []any{
			kv("deregistration_delay.timeout_seconds", fmt.Sprint(deregistrationDelay)),
		},
	})
}

// listeners are port 80, which forwards to the target group or, with TLS,
// redirects to 443, and with TLS the HTTPS listener that forwards; the
// service waits for them.
func (b *builder) listeners() {
	forward := []any{map[string]any{"Type": "forward", "TargetGroupArn": cfn.Ref("TargetGroup")}}
	httpActions := forward
	if b.s.Ingress.TLS() {
		httpActions = []any{map[string]any{
			"Type": "redirect",
			"RedirectConfig": map[string]any{
				"Protocol":   "HTTPS",
				"Port":       "443",
				"StatusCode": "HTTP_301",
			},
		}}
	}
	b.add(PartIngress, "HttpListener", "AWS::ElasticLoadBalancingV2::Listener", cfn.Props{
		"LoadBalancerArn": cfn.Ref("LoadBalancer"),
		"Port":            80,
		"Protocol":        "HTTP",
		"DefaultActions":  httpActions,
	})
	b.dependsOn = []string{"HttpListener"}
	if !b.s.Ingress.TLS() {
		return
	}
	b.add(PartIngress, "HttpsListener", "AWS::ElasticLoadBalancingV2::Listener", cfn.Props{
		"LoadBalancerArn": cfn.Ref("LoadBalancer"),
		"Port":            443,
		"Protocol":        "HTTPS",
		"SslPolicy":       TLSPolicy,
		"Certificates":    []any{map[string]any{"CertificateArn": b.certificate()}},
		"DefaultActions":  forward,
	})
	b.dependsOn = append(b.dependsOn, "HttpsListener")
}

// albURL is where the app answers: the load balancer's DNS name over HTTP,
// or with TLS over HTTPS, at the domain when there is one.
func (b *builder) albURL() any {
	in := b.s.Ingress
	switch {
	case !in.TLS():
		return cfn.Sub("http://${LoadBalancer.DNSName}")
	case in.Domain != "":
		return "https://" + in.Domain
	}
	return cfn.Sub("https://${LoadBalancer.DNSName}")
}

// certificate is the ingress certificate: the given ARN, or a new ACM
// certificate for the domain validated through DNS in the hosted zone.
func (b *builder) certificate() any {
	in := b.s.Ingress
	if in.CertificateARN != "" {
		return in.CertificateARN
	}
	b.add(PartIngress, "Certificate", "AWS::CertificateManager::Certificate", cfn.Props{
		"DomainName":       in.Domain,
		"ValidationMethod": "DNS",
		"DomainValidationOptions": []any{map[string]any{
			"DomainName":   in.Domain,
			"HostedZoneId": in.HostedZoneID,
		}},
	})
	return cfn.Ref("Certificate")
}

// aliasRecord points the domain at the ingress with a Route 53 alias (free
// queries, no CNAME at the zone apex problem).
func (b *builder) aliasRecord(dnsName, zoneID any) {
	in := b.s.Ingress
	b.add(PartIngress, "DnsRecord", "AWS::Route53::RecordSet", cfn.Props{
		"HostedZoneId": in.HostedZoneID,
		"Name":         in.Domain,
		"Type":         "A",
		"AliasTarget": map[string]any{
			"DNSName":              dnsName,
			"HostedZoneId":         zoneID,
			"EvaluateTargetHealth": false,
		},
	})
}

// worldIngress opens a TCP port to every IPv4 address: only the ingress
// ports 80 and 443 ever are (a security test checks).
func worldIngress(port int) map[string]any {
	return map[string]any{
		"IpProtocol":  "tcp",
		"FromPort":    port,
		"ToPort":      port,
		"CidrIp":      "0.0.0.0/0",
		"Description": fmt.Sprintf("port %d from anywhere", port),
	}
}

func kv(key, value string) map[string]any {
	return map[string]any{"Key": key, "Value": value}
}
