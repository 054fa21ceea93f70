package awsfake

import (
	"strings"
	"sync"
)

// ECSService is the state of one fake ECS service.
type ECSService struct {
	Cluster string
	Name    string
	Status  string // ACTIVE unless set
	Desired int32
	Running int32
	Pending int32
}

// ECS is an Elastic Container Service fake (awsJson 1.1): DescribeServices
// and UpdateService over services added with AddService. UpdateService
// changes the desired count only; Running follows when Converge is set,
// as if the scheduler had done its work.
type ECS struct {
	*JSONService

	// Converge makes UpdateService set Running to the new desired count.
	Converge bool

	mu       sync.Mutex
	services map[string]*ECSService // key: cluster/name
}

// NewECS returns an ECS fake with no services.
func NewECS() *ECS {
	f := &ECS{services: map[string]*ECSService{}}
	f.JSONService = &JSONService{TargetPrefix: "AmazonEC2ContainerServiceV20141113", Version: "1.1", Ops: map[string]JSONOp{
		"DescribeServices": Handle(f.describe),
		"UpdateService":    Handle(f.update),
	}}
	return f
}

// AddService creates or replaces a service.
func (f *ECS) AddService(s ECSService) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Status == "" {
		s.Status = "ACTIVE"
	}
	f.services[s.Cluster+"/"+s.Name] = &s
}

// Service returns a copy of a service's state.
func (f *ECS) Service(cluster, name string) (ECSService, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[cluster+"/"+name]
	if !ok {
		return ECSService{}, false
	}
	return *s, true
}

// lastSegment accepts a name or an ARN (arn:...:service/cluster/name).
func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (f *ECS) find(cluster, service string) (*ECSService, error) {
	cluster = lastSegment(cluster)
	if cluster == "" {
		cluster = "default"
	}
	known := false
	for _, s := range f.services {
		if s.Cluster == cluster {
			known = true
			break
		}
	}
	if !known {
		return nil, Errorf("ClusterNotFoundException", "Cluster not found.")
	}
	s, ok := f.services[cluster+"/"+lastSegment(service)]
	if !ok {
		return nil, nil
	}
	return s, nil
}

type ecsServiceJSON struct {
	ServiceName  string `json:"serviceName"`
	ServiceArn   string `json:"serviceArn"`
	ClusterArn   string `json:"clusterArn"`
	Status       string `json:"status"`
	DesiredCount int32  `json:"desiredCount"`
	RunningCount int32  `json:"runningCount"`
	PendingCount int32  `json:"pendingCount"`
	LaunchType   string `json:"launchType"`
}

func (s *ECSService) json() ecsServiceJSON {
	return ecsServiceJSON{
		ServiceName:  s.Name,
		ServiceArn:   "arn:aws:ecs:us-east-1:123456789012:service/" + s.Cluster + "/" + s.Name,
		ClusterArn:   "arn:aws:ecs:us-east-1:123456789012:cluster/" + s.Cluster,
		Status:       s.Status,
		DesiredCount: s.Desired, RunningCount: s.Running, PendingCount: s.Pending,
		LaunchType: "FARGATE",
	}
}

func (f *ECS) describe(in struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
}) (any, error) {
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, Errorf("InvalidParameterException", "services must name 1-10 services")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Services []ecsServiceJSON `json:"services"`
		Failures []failure        `json:"failures"`
	}{Services: []ecsServiceJSON{}, Failures: []failure{}}
	for _, name := range in.Services {
		s, err := f.find(in.Cluster, name)
		if err != nil {
			return nil, err
		}
		if s == nil {
			out.Failures = append(out.Failures, failure{Arn: "arn:aws:ecs:us-east-1:123456789012:service/" + lastSegment(in.Cluster) + "/" + lastSegment(name), Reason: "MISSING"})
			continue
		}
		out.Services = append(out.Services, s.json())
	}
	return out, nil
}

func (f *ECS) update(in struct {
	Cluster      string `json:"cluster"`
	Service      string `json:"service"`
	DesiredCount *int32 `json:"desiredCount"`
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	if s == nil || s.Status != "ACTIVE" {
		return nil, Errorf("ServiceNotFoundException", "Service not found.")
	}
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return nil, Errorf("InvalidParameterException", "desiredCount must be >= 0")
		}
		s.Desired = *in.DesiredCount
		if f.Converge {
			s.Running, s.Pending = s.Desired, 0
		}
	}
	return map[string]any{"service": s.json()}, nil
}
