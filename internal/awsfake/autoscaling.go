package awsfake

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// ScalableTarget is one registered Application Auto Scaling target.
type ScalableTarget struct {
	Namespace  string
	ResourceID string
	Dimension  string
	Min, Max   int32
}

// ScheduledAction is one scheduled action on a scalable target.
type ScheduledAction struct {
	Name       string
	Namespace  string
	ResourceID string
	Dimension  string
	Schedule   string // cron(...), at(...), rate(...)
	Timezone   string
	Min, Max   *int32
}

// AutoScaling is an Application Auto Scaling fake (awsJson 1.1):
// RegisterScalableTarget, DescribeScalableTargets, DescribeScheduledActions.
type AutoScaling struct {
	*JSONService

	mu      sync.Mutex
	targets map[string]*ScalableTarget // key: namespace|resource|dimension
	actions []ScheduledAction
}

// NewAutoScaling returns an empty Application Auto Scaling fake.
func NewAutoScaling() *AutoScaling {
	f := &AutoScaling{targets: map[string]*ScalableTarget{}}
	f.JSONService = &JSONService{TargetPrefix: "AnyScaleFrontendService", Version: "1.1", Ops: map[string]JSONOp{
		"RegisterScalableTarget":   Handle(f.register),
		"DescribeScalableTargets":  Handle(f.describeTargets),
		"DescribeScheduledActions": Handle(f.describeActions),
	}}
	return f
}

func targetKey(ns, id, dim string) string { return ns + "|" + id + "|" + dim }

// AddTarget registers a target directly.
func (f *AutoScaling) AddTarget(t ScalableTarget) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets[targetKey(t.Namespace, t.ResourceID, t.Dimension)] = &t
}

// Target returns a copy of a target's state.
func (f *AutoScaling) Target(ns, id, dim string) (ScalableTarget, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.targets[targetKey(ns, id, dim)]
	if !ok {
		return ScalableTarget{}, false
	}
	return *t, true
}

// AddScheduledAction adds a scheduled action directly.
func (f *AutoScaling) AddScheduledAction(a ScheduledAction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, a)
}

func (f *AutoScaling) register(in struct {
	ServiceNamespace  string
	ResourceId        string
	ScalableDimension string
	MinCapacity       *int32
	MaxCapacity       *int32
}) (any, error) {
	if in.ServiceNamespace == "" || in.ResourceId == "" || in.ScalableDimension == "" {
		return nil, Errorf("ValidationException", "ServiceNamespace, ResourceId and ScalableDimension are required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := targetKey(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	t, ok := f.targets[key]
	if !ok {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, Errorf("ValidationException", "MinCapacity and MaxCapacity are required to register a new target")
		}
		t = &ScalableTarget{Namespace: in.ServiceNamespace, ResourceID: in.ResourceId, Dimension: in.ScalableDimension}
	}
	min, max := t.Min, t.Max
	if in.MinCapacity != nil {
		min = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		max = *in.MaxCapacity
	}
	if min < 0 || max < min {
		return nil, Errorf("ValidationException", "Minimum capacity %d cannot be greater than maximum capacity %d", min, max)
	}
	t.Min, t.Max = min, max
	f.targets[key] = t
	return map[string]any{"ScalableTargetARN": "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/fake"}, nil
}

func (f *AutoScaling) describeTargets(in struct {
	ServiceNamespace  string
	ResourceIds       []string
	ScalableDimension string
}) (any, error) {
	if in.ServiceNamespace == "" {
		return nil, Errorf("ValidationException", "ServiceNamespace is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[string]bool{}
	for _, id := range in.ResourceIds {
		want[id] = true
	}
	out := []map[string]any{}
	keys := slices.Sorted(maps.Keys(f.targets))
	for _, k := range keys {
		t := f.targets[k]
		if t.Namespace != in.ServiceNamespace || (len(want) > 0 && !want[t.ResourceID]) ||
			(in.ScalableDimension != "" && in.ScalableDimension != t.Dimension) {
			continue
		}
		out = append(out, map[string]any{
			"ServiceNamespace": t.Namespace, "ResourceId": t.ResourceID, "ScalableDimension": t.Dimension,
			"MinCapacity": t.Min, "MaxCapacity": t.Max, "RoleARN": "arn:aws:iam::123456789012:role/fake",
			"CreationTime": epoch(time.Unix(1700000000, 0)),
		})
	}
	return map[string]any{"ScalableTargets": out}, nil
}

func (f *AutoScaling) describeActions(in struct {
	ServiceNamespace  string
	ResourceId        string
	ScalableDimension string
}) (any, error) {
	if in.ServiceNamespace == "" {
		return nil, Errorf("ValidationException", "ServiceNamespace is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, a := range f.actions {
		if a.Namespace != in.ServiceNamespace || (in.ResourceId != "" && a.ResourceID != in.ResourceId) ||
			(in.ScalableDimension != "" && in.ScalableDimension != a.Dimension) {
			continue
		}
		act := map[string]any{}
		if a.Min != nil {
			act["MinCapacity"] = *a.Min
		}
		if a.Max != nil {
			act["MaxCapacity"] = *a.Max
		}
		m := map[string]any{
			"ScheduledActionName": a.Name,
			"ScheduledActionARN":  "arn:aws:autoscaling:us-east-1:123456789012:scheduledAction:fake:" + a.Name,
			"ServiceNamespace":    a.Namespace, "ResourceId": a.ResourceID, "ScalableDimension": a.Dimension,
			"Schedule": a.Schedule, "ScalableTargetAction": act,
			"CreationTime": epoch(time.Unix(1700000000, 0)),
		}
		if a.Timezone != "" {
			m["Timezone"] = a.Timezone
		}
		out = append(out, m)
	}
	return map[string]any{"ScheduledActions": out}, nil
}
