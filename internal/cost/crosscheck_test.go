package cost_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// TestPricesWhatTheStackBuilds builds every example's template and checks
// that the estimate, which reads only the spec, prices what the template
// creates: the same alarm metrics, an ALB line exactly when there is an
// ALB, the HTTP API and Cloud Map lines exactly when there is an HTTP API,
// and no NAT gateway.
func TestPricesWhatTheStackBuilds(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		// The examples ship with the repository: without them this test
		// would check nothing and still pass.
		t.Fatalf("no examples/*.yaml to check (%v)", err)
	}
	type variant struct {
		name string
		s    *spec.Spec
	}
	var specs []variant
	for _, f := range files {
		s, err := spec.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, variant{filepath.Base(f), s})
		if s.ECS() {
			// One task at most: no target-tracking policy, two alarm
			// metrics fewer (spec.Autoscales).
			v := *s
			v.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 1}
			if s.Profile == spec.ProfileHA {
				v.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 2}
			}
			specs = append(specs, variant{filepath.Base(f) + "/pinned", &v})
		}
		// Each idle example in every ingress and serve mode: the shapes
		// with the most alarms and functions, whatever the examples pick.
		if s.Service.Idle == nil {
			continue
		}
		for _, ingress := range []string{spec.IngressALB, spec.IngressAPIGW} {
			for _, serve := range []string{spec.ServeApp, spec.ServePage} {
				if serve == spec.ServeApp && s.HasDatabase() {
					continue // refused with a database
				}
				v := *s
				idle := *s.Service.Idle
				v.Service.Idle, idle.Serve, v.Ingress.Kind = &idle, serve, ingress
				specs = append(specs, variant{filepath.Base(f) + "/" + ingress + "/" + serve, &v})
			}
		}
	}
	for _, sv := range specs {
		t.Run(sv.name, func(t *testing.T) {
			s := sv.s
			res, err := stack.Build(s)
			if err != nil {
				t.Fatal(err)
			}
			r, err := cost.Estimate(s, cost.Options{Workload: cost.WorkloadOf(s)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := cost.AlarmCount(s), res.AlarmMetrics; got != want {
				t.Errorf("cost counts %d alarm metrics, the template bills %d", got, want)
			}
			types := map[string]bool{}
			for id, res := range res.Main.Resources {
				// The daily free tier check's function costs nothing (31
				// invocations a month, always free): plan lists it as a
				// part with its $0 (stack.FreeTierCheckNote), the bill has
				// no line for it.
				if id == "FreeTierCheck" {
					continue
				}
				types[res.Type] = true
			}
			if res.Main.Resources["FreeTierCheck"] == nil {
				t.Error("the template has no free tier check")
			}
			priced := map[string]bool{}
			for _, it := range r.Items {
				priced[it.Name] = true
			}
			check := func(what string, built, billed bool) {
				if built != billed {
					t.Errorf("%s: built %v, priced %v", what, built, billed)
				}
			}
			check("ALB", types["AWS::ElasticLoadBalancingV2::LoadBalancer"], priced["alb_hours"])
			check("HTTP API", types["AWS::ApiGatewayV2::Api"], priced["http_api_requests"])
			check("Cloud Map service", types["AWS::ServiceDiscovery::Service"], priced["cloud_map_discovery"])
			check("private DNS namespace", types["AWS::ServiceDiscovery::PrivateDnsNamespace"], priced["cloud_map_namespace_zone"])
			check("Fargate service", types["AWS::ECS::Service"], priced["fargate_vcpu"])
			check("Lambda function", types["AWS::Lambda::Function"], priced["lambda_requests"] || priced["wake_controller_requests"])
			check("wake controller", res.Main.Resources["WakeFunction"] != nil, priced["wake_controller_requests"])
			check("database", types["AWS::RDS::DBCluster"], priced["db_capacity"])
			instances := 0
			for _, res := range res.Main.Resources {
				if res.Type == "AWS::RDS::DBInstance" {
					instances++
				}
			}
			if instances != r.Shape.Database.Instances {
				t.Errorf("database instances: built %d, priced %d", instances, r.Shape.Database.Instances)
			}
			if types["AWS::EC2::NatGateway"] {
				t.Error("the template has a NAT gateway")
			}
			for name := range priced {
				if strings.HasPrefix(name, "nat_") {
					t.Errorf("a lowfare shape is priced with %s", name)
				}
			}
		})
	}
}
