package awsfake

import (
	"fmt"
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
	// Network is the service's awsvpc configuration, as DescribeServices
	// reports it (absent when nil).
	Network *ECSNetwork
}

// ECSTask is one task of a fake service.
type ECSTask struct {
	ARN            string
	TaskDefinition string
	LastStatus     string // PROVISIONING, PENDING, RUNNING, STOPPED
	DesiredStatus  string // RUNNING unless set (STOPPED when LastStatus is)
	HealthStatus   string // HEALTHY, UNHEALTHY, UNKNOWN
	StoppedReason  string
	StopCode       string // EssentialContainerExited, TaskFailedToStart, UserInitiated...
	ExitCode       *int32 // the container's, once stopped
	Container      string // the container's name; "app" when empty
}

// ECS is an Elastic Container Service fake (awsJson 1.1): DescribeServices
// and UpdateService over services added with AddService, ListTasks and
// DescribeTasks over their Tasks, RunTask, StopTask and
// DescribeTaskDefinition over task definitions added with
// AddTaskDefinition (moto reports every container's exit code as 0) (moto's ECS reports no task
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

	// RunExitCode is the exit code of the container of each task RunTask
	// starts (with a public IP; see runTask).
	RunExitCode int32
	// RunFailure, when set, makes RunTask start nothing and answer this
	// failure reason, as ECS does when it cannot place a task.
	RunFailure string
	// OnRun, when set, may change how a task started by RunTask ends.
	OnRun func(t *ECSTask)

	mu          sync.Mutex
	services    map[string]*ECSService // key: cluster/name
	taskDefs    map[string]ECSTaskDefinition
	runRequests []ECSRunRequest
	runSeq      int
	runTasks    map[string]*runState // key: task ARN
	stopped     []string
}

// NewECS returns an ECS fake with no services.
func NewECS() *ECS {
	f := &ECS{services: map[string]*ECSService{}}
	f.JSONService = &JSONService{TargetPrefix: "AmazonEC2ContainerServiceV20141113", Version: "1.1", Ops: map[string]JSONOp{
		"DescribeServices": Handle(f.describe),
		"UpdateService":    Handle(f.update),
		"ListTasks":        Handle(f.listTasks),
		"DescribeTasks":    Handle(f.describeTasks),
		"RunTask":          Handle(f.runTask),
		"StopTask":         Handle(f.stopTask),

		"DescribeTaskDefinition": Handle(f.describeTaskDefinition),
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
	Network        *ecsNetworkJSON     `json:"networkConfiguration,omitempty"`
}

type ecsNetworkJSON struct {
	Awsvpc *ECSNetwork `json:"awsvpcConfiguration"`
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
	if s.Network != nil {
		out.Network = &ecsNetworkJSON{Awsvpc: s.Network}
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
		StopCode          string      `json:"stopCode,omitempty"`
		Containers        []container `json:"containers"`
	}
	view := func(t ECSTask) task {
		name := t.Container
		if name == "" {
			name = "app"
		}
		return task{TaskArn: t.ARN, TaskDefinitionArn: t.TaskDefinition, LastStatus: t.LastStatus,
			DesiredStatus: t.desiredStatus(), HealthStatus: t.HealthStatus, StoppedReason: t.StoppedReason, StopCode: t.StopCode,
			Containers: []container{{Name: name, ExitCode: t.ExitCode}}}
	}
	out := struct {
		Tasks    []task           `json:"tasks"`
		Failures []map[string]any `json:"failures"`
	}{Tasks: []task{}, Failures: []map[string]any{}}
	cluster := lastSegment(in.Cluster)
	for _, arn := range in.Tasks {
		if r, ok := f.runTasks[arn]; ok && r.cluster == cluster {
			out.Tasks = append(out.Tasks, view(r.view()))
			continue
		}
		found := false
		for key, s := range f.services {
			if !strings.HasPrefix(key, cluster+"/") {
				continue
			}
			for _, t := range s.Tasks {
				if t.ARN == arn {
					found = true
					out.Tasks = append(out.Tasks, view(t))
				}
			}
		}
		if !found {
			out.Failures = append(out.Failures, map[string]any{"arn": arn, "reason": "MISSING"})
		}
	}
	return out, nil
}

// ECSNetwork is a service's or a task's awsvpc configuration.
type ECSNetwork struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"` // ENABLED | DISABLED
}

// ECSContainerDef is one container of a fake task definition.
type ECSContainerDef struct {
	Name      string
	Essential bool
	// LogGroup and LogPrefix are its awslogs options; empty: no awslogs.
	LogGroup, LogPrefix string
}

// ECSTaskDefinition is a task definition registered with AddTaskDefinition.
type ECSTaskDefinition struct {
	ARN        string
	Containers []ECSContainerDef
}

// ECSContainerOverride is a RunTask container override as received.
type ECSContainerOverride struct {
	Name    string   `json:"name"`
	Command []string `json:"command"`
}

// ECSRunRequest is one RunTask call as the fake received it.
type ECSRunRequest struct {
	Cluster        string `json:"cluster"`
	TaskDefinition string `json:"taskDefinition"`
	Count          int32  `json:"count"`
	LaunchType     string `json:"launchType"`
	StartedBy      string `json:"startedBy"`
	Network        *struct {
		Awsvpc *ECSNetwork `json:"awsvpcConfiguration"`
	} `json:"networkConfiguration"`
	Overrides struct {
		ContainerOverrides []ECSContainerOverride `json:"containerOverrides"`
	} `json:"overrides"`
	CapacityProviderStrategy []map[string]any `json:"capacityProviderStrategy"`
}

// AddTaskDefinition registers a task definition for DescribeTaskDefinition
// and RunTask.
func (f *ECS) AddTaskDefinition(td ECSTaskDefinition) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.taskDefs == nil {
		f.taskDefs = map[string]ECSTaskDefinition{}
	}
	f.taskDefs[td.ARN] = td
}

// RunRequests returns the RunTask calls received so far.
func (f *ECS) RunRequests() []ECSRunRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runRequests)
}

// StoppedTasks returns the tasks StopTask was called for.
func (f *ECS) StoppedTasks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stopped)
}

// runTask starts one task (Count must be 1 here) of a registered task
// definition, with the rules of RunTask that lowfare run depends on:
//   - a task definition in awsvpc mode (every Fargate one) needs
//     networkConfiguration with subnets;
//   - a container override must name a container of the task definition;
//   - launchType and capacityProviderStrategy exclude each other.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
//
// The task then stops as RunOutcome says. Without a public IP it never
// starts: a Fargate task in a public subnet needs one to pull its image
// and read its secrets when there is no NAT gateway, as in lowfare's VPC
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
func (f *ECS) runTask(in ECSRunRequest) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runRequests = append(f.runRequests, in)
	cluster := lastSegment(in.Cluster)
	if cluster == "" {
		cluster = "default"
	}
	if _, err := f.find(cluster, ""); err != nil {
		return nil, err
	}
	td, ok := f.taskDefs[in.TaskDefinition]
	if !ok {
		return nil, Errorf("ClientException", "Unable to describe task definition.")
	}
	if in.Count > 1 {
		return nil, Errorf("InvalidParameterException", "this fake runs one task at a time")
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return nil, Errorf("InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if in.Network == nil || in.Network.Awsvpc == nil || len(in.Network.Awsvpc.Subnets) == 0 {
		return nil, Errorf("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	container := td.Containers[0].Name
	for _, o := range in.Overrides.ContainerOverrides {
		if !slices.ContainsFunc(td.Containers, func(c ECSContainerDef) bool { return c.Name == o.Name }) {
			return nil, Errorf("InvalidParameterException", "Override for container named %s is not a container in the TaskDefinition.", o.Name)
		}
	}
	if f.RunFailure != "" {
		return map[string]any{"tasks": []any{}, "failures": []map[string]string{{"reason": f.RunFailure}}}, nil
	}
	f.runSeq++
	t := ECSTask{ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/%s/%032x", cluster, f.runSeq), TaskDefinition: td.ARN,
		LastStatus: "STOPPED", Container: container}
	if in.Network.Awsvpc.AssignPublicIP != "ENABLED" {
		t.StopCode, t.StoppedReason = "TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: There is a connection issue between the task and AWS Secrets Manager."
	} else {
		code := f.RunExitCode
		t.ExitCode = &code
		t.StopCode, t.StoppedReason = "EssentialContainerExited", "Essential container in task exited"
	}
	if f.OnRun != nil {
		f.OnRun(&t)
	}
	if f.runTasks == nil {
		f.runTasks = map[string]*runState{}
	}
	f.runTasks[t.ARN] = &runState{cluster: cluster, task: t}
	return map[string]any{"tasks": []map[string]string{{"taskArn": t.ARN, "lastStatus": "PROVISIONING"}}, "failures": []any{}}, nil
}

// runState is a task started by RunTask: DescribeTasks shows it RUNNING
// (without an exit code) first, then as it ended, unless StopTask came
// first.
type runState struct {
	cluster   string
	task      ECSTask
	described int
	stopped   bool
}

func (r *runState) view() ECSTask {
	r.described++
	if r.described == 1 && !r.stopped {
		return ECSTask{ARN: r.task.ARN, TaskDefinition: r.task.TaskDefinition, LastStatus: "RUNNING", Container: r.task.Container}
	}
	return r.task
}

func (f *ECS) stopTask(in struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runTasks[in.Task]
	if !ok {
		return nil, Errorf("InvalidParameterException", "The referenced task was not found.")
	}
	if !r.stopped && r.described < 2 {
		r.stopped = true
		r.task.ExitCode, r.task.StopCode, r.task.StoppedReason = nil, "UserInitiated", in.Reason
	}
	f.stopped = append(f.stopped, in.Task)
	return map[string]any{"task": map[string]string{"taskArn": in.Task, "lastStatus": "STOPPED"}}, nil
}

func (f *ECS) describeTaskDefinition(in struct {
	TaskDefinition string `json:"taskDefinition"`
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	td, ok := f.taskDefs[in.TaskDefinition]
	if !ok {
		return nil, Errorf("ClientException", "Unable to describe task definition.")
	}
	type logConfig struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	}
	type containerDef struct {
		Name             string     `json:"name"`
		Essential        bool       `json:"essential"`
		LogConfiguration *logConfig `json:"logConfiguration,omitempty"`
	}
	defs := []containerDef{}
	for _, c := range td.Containers {
		d := containerDef{Name: c.Name, Essential: c.Essential}
		if c.LogGroup != "" {
			d.LogConfiguration = &logConfig{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": c.LogGroup, "awslogs-stream-prefix": c.LogPrefix}}
		}
		defs = append(defs, d)
	}
	return map[string]any{"taskDefinition": map[string]any{"taskDefinitionArn": td.ARN, "networkMode": "awsvpc", "containerDefinitions": defs}}, nil
}
