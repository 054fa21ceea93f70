package awsfake

import (
	"maps"
	"slices"
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
	// TaskDefinition is the service's task definition (ARN); its one
	// deployment (PRIMARY) runs it with the counts above.
	TaskDefinition string
	// RolloutState is that deployment's (COMPLETED unless set).
	RolloutState string
	// Tags are the service's tags, returned when DescribeServices asks
	// for them (include TAGS), as ECS does.
	Tags map[string]string
	// Tasks are the service's tasks, running and stopped, for ListTasks
	// and DescribeTasks.
	Tasks []ECSTask
}

// ECSTask is one task of a fake service.
type ECSTask struct {
	ARN            string
	TaskDefinition string
	LastStatus     string // PROVISIONING, PENDING, RUNNING, STOPPED
	DesiredStatus  string // RUNNING unless set (STOPPED when LastStatus is)
	HealthStatus   string // HEALTHY, UNHEALTHY, UNKNOWN
	StoppedReason  string
	ExitCode       *int32 // the container's, once stopped
}

// ECS is an Elastic Container Service fake (awsJson 1.1): DescribeServices
// and UpdateService over services added with AddService, ListTasks and
// DescribeTasks over their Tasks (moto's ECS reports no task
// healthStatus, which a deploy's proof of a sleeping service's new image
// reads). UpdateService changes the desired count only; Running follows
// when Converge is set, as if the scheduler had done its work.
type ECS struct {
	*JSONService

	// Converge makes UpdateService set Running to the new desired count.
	Converge bool
	// OnDescribe, when set, may change a service before each
	// DescribeServices answers it: a test's scheduler, one step a poll.
	OnDescribe func(s *ECSService)

	mu       sync.Mutex
	services map[string]*ECSService // key: cluster/name
}

// NewECS returns an ECS fake with no services.
func NewECS() *ECS {
	f := &ECS{services: map[string]*ECSService{}}
	f.JSONService = &JSONService{TargetPrefix: "AmazonEC2ContainerServiceV20141113", Version: "1.1", Ops: map[string]JSONOp{
		"DescribeServices": Handle(f.describe),
		"UpdateService":    Handle(f.update),
		"ListTasks":        Handle(f.listTasks),
		"DescribeTasks":    Handle(f.describeTasks),
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

// Update changes a service in place, as the test's stand-in for what ECS or
// a controller does; it reports whether the service exists.
func (f *ECS) Update(cluster, name string, change func(s *ECSService)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[cluster+"/"+name]
	if ok {
		change(s)
	}
	return ok
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

type ecsDeploymentJSON struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	TaskDefinition string `json:"taskDefinition"`
	DesiredCount   int32  `json:"desiredCount"`
	RunningCount   int32  `json:"runningCount"`
	PendingCount   int32  `json:"pendingCount"`
	RolloutState   string `json:"rolloutState"`
}

type ecsTagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type ecsServiceJSON struct {
	ServiceName    string              `json:"serviceName"`
	ServiceArn     string              `json:"serviceArn"`
	ClusterArn     string              `json:"clusterArn"`
	Status         string              `json:"status"`
	DesiredCount   int32               `json:"desiredCount"`
	RunningCount   int32               `json:"runningCount"`
	PendingCount   int32               `json:"pendingCount"`
	LaunchType     string              `json:"launchType"`
	TaskDefinition string              `json:"taskDefinition,omitempty"`
	Deployments    []ecsDeploymentJSON `json:"deployments,omitempty"`
	Tags           []ecsTagJSON        `json:"tags,omitempty"`
}

func (s *ECSService) json(withTags bool) ecsServiceJSON {
	out := ecsServiceJSON{
		ServiceName:  s.Name,
		ServiceArn:   "arn:aws:ecs:us-east-1:123456789012:service/" + s.Cluster + "/" + s.Name,
		ClusterArn:   "arn:aws:ecs:us-east-1:123456789012:cluster/" + s.Cluster,
		Status:       s.Status,
		DesiredCount: s.Desired, RunningCount: s.Running, PendingCount: s.Pending,
		LaunchType: "FARGATE",
	}
	if s.TaskDefinition != "" {
		state := s.RolloutState
		if state == "" {
			state = "COMPLETED"
		}
		out.TaskDefinition = s.TaskDefinition
		out.Deployments = []ecsDeploymentJSON{{ID: "ecs-svc/1", Status: "PRIMARY", TaskDefinition: s.TaskDefinition,
			DesiredCount: s.Desired, RunningCount: s.Running, PendingCount: s.Pending, RolloutState: state}}
	}
	if withTags {
		for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
			out.Tags = append(out.Tags, ecsTagJSON{Key: k, Value: s.Tags[k]})
		}
	}
	return out
}

func (f *ECS) describe(in struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
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
		if f.OnDescribe != nil {
			f.OnDescribe(s)
		}
		out.Services = append(out.Services, s.json(slices.Contains(in.Include, "TAGS")))
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
	return map[string]any{"service": s.json(false)}, nil
}

func (t ECSTask) desiredStatus() string {
	switch {
	case t.DesiredStatus != "":
		return t.DesiredStatus
	case t.LastStatus == "STOPPED":
		return "STOPPED"
	}
	return "RUNNING"
}

// listTasks answers for one service (serviceName is required here) and one
// desired status, RUNNING when not given, as ECS does.
func (f *ECS) listTasks(in struct {
	Cluster       string `json:"cluster"`
	ServiceName   string `json:"serviceName"`
	DesiredStatus string `json:"desiredStatus"`
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(in.Cluster, in.ServiceName)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, Errorf("ServiceNotFoundException", "Service not found.")
	}
	want := in.DesiredStatus
	if want == "" {
		want = "RUNNING"
	}
	arns := []string{}
	for _, t := range s.Tasks {
		if t.desiredStatus() == want {
			arns = append(arns, t.ARN)
		}
	}
	return map[string]any{"taskArns": arns}, nil
}

func (f *ECS) describeTasks(in struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
}) (any, error) {
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, Errorf("InvalidParameterException", "tasks must name 1-100 tasks")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	type container struct {
		Name     string `json:"name"`
		ExitCode *int32 `json:"exitCode,omitempty"`
	}
	type task struct {
		TaskArn           string      `json:"taskArn"`
		TaskDefinitionArn string      `json:"taskDefinitionArn"`
		LastStatus        string      `json:"lastStatus"`
		DesiredStatus     string      `json:"desiredStatus"`
		HealthStatus      string      `json:"healthStatus,omitempty"`
		StoppedReason     string      `json:"stoppedReason,omitempty"`
		Containers        []container `json:"containers"`
	}
	out := struct {
		Tasks    []task           `json:"tasks"`
		Failures []map[string]any `json:"failures"`
	}{Tasks: []task{}, Failures: []map[string]any{}}
	cluster := lastSegment(in.Cluster)
	for _, arn := range in.Tasks {
		found := false
		for key, s := range f.services {
			if !strings.HasPrefix(key, cluster+"/") {
				continue
			}
			for _, t := range s.Tasks {
				if t.ARN == arn {
					found = true
					out.Tasks = append(out.Tasks, task{TaskArn: t.ARN, TaskDefinitionArn: t.TaskDefinition, LastStatus: t.LastStatus,
						DesiredStatus: t.desiredStatus(), HealthStatus: t.HealthStatus, StoppedReason: t.StoppedReason,
						Containers: []container{{Name: "app", ExitCode: t.ExitCode}}})
				}
			}
		}
		if !found {
			out.Failures = append(out.Failures, map[string]any{"arn": arn, "reason": "MISSING"})
		}
	}
	return out, nil
}
