package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"
)

func (f *CloudFormation) stackEvent(st *cfnStack, status, reason string, at time.Time) cfnEvent {
	f.seq++
	return cfnEvent{
		id: fmt.Sprintf("%08d-e000-4000-8000-000000000000", f.seq), logicalID: st.name, physicalID: st.id,
		typ: "AWS::CloudFormation::Stack", status: status, reason: reason, at: at,
	}
}

func (f *CloudFormation) resourceEvent(st *cfnStack, id, typ, physical, status, reason string) cfnEvent {
	f.seq++
	return cfnEvent{id: fmt.Sprintf("%s-%08d", id, f.seq), logicalID: id, physicalID: physical, typ: typ, status: status, reason: reason}
}

// emptyResult is the Result element of a reply that carries nothing.
type emptyResult struct {
	XMLName xml.Name `xml:"x"`
}

// executeChangeSet starts the change set's operation: it plans every event
// the operation will emit (execution) and leaves them pending, to be
// played by DescribeStacks polls (advance).
func (f *CloudFormation) executeChangeSet(form url.Values) (any, error) {
	cs, err := f.findChangeSet(form)
	if err != nil {
		return nil, err
	}
	if cs.status != "CREATE_COMPLETE" {
		return nil, Errorf("InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of [%s]", cs.id, cs.status)
	}
	st := f.byID[cs.stackID]
	if strings.HasSuffix(st.status, "_IN_PROGRESS") && st.status != "REVIEW_IN_PROGRESS" {
		return nil, Errorf("InvalidChangeSetStatus", "Stack %s is in %s state", st.name, st.status)
	}
	e := f.startExecution(cs, st)
	switch done, outcome := e.applyChanges(); outcome {
	case applyHung:
	case applyFailed:
		e.rollBack(done)
	default:
		e.cleanUp()
		e.complete()
	}
	st.pending = e.steps
	return emptyResult{}, nil
}

// execution plans the events of one change set's operation on its stack.
type execution struct {
	f     *CloudFormation
	st    *cfnStack
	cs    *cfnChangeSet
	sc    CFNScenario
	verb  string // CREATE or UPDATE
	steps []cfnStep
}

// startExecution marks the change set executed, puts the stack in
// CREATE_IN_PROGRESS or UPDATE_IN_PROGRESS, and carries the physical IDs
// of resources the new template keeps.
func (f *CloudFormation) startExecution(cs *cfnChangeSet, st *cfnStack) *execution {
	e := &execution{f: f, st: st, cs: cs, sc: f.scenario(st.name), verb: "UPDATE"}
	if cs.kind == "CREATE" {
		e.verb = "CREATE"
	}
	cs.status = "EXECUTE_COMPLETE"
	// AWS deletes the stack's change sets, this one included, once one
	// executes.
	for id, other := range f.changeSets {
		if other.stackID == st.id {
			delete(f.changeSets, id)
		}
	}
	st.status = e.verb + "_IN_PROGRESS"
	st.reason = "User Initiated"
	st.events = append(st.events, f.stackEvent(st, st.status, "User Initiated", f.tick()))
	if old := st.tpl; old != nil {
		for id, r := range cs.tpl.Resources {
			if o := old.Resources[id]; o != nil {
				r.physicalID = o.physicalID
			}
		}
	}
	return e
}

// add plans one event and the stack status it leaves.
func (e *execution) add(ev cfnEvent, stackStatus string, apply func()) {
	e.steps = append(e.steps, cfnStep{event: ev, status: stackStatus, apply: apply})
}

// resource plans an event of the changed resource c.
func (e *execution) resource(c cfnChange, physical, status, reason, stackStatus string) {
	e.add(e.f.resourceEvent(e.st, c.logicalID, c.typ, physical, status, reason), stackStatus, nil)
}

// stack plans an event of the stack itself, which sets its status.
func (e *execution) stack(status, reason string) {
	e.add(e.f.stackEvent(e.st, status, reason, time.Time{}), status, nil)
}

// physicalID is the ID a created or updated resource has: the one it had,
// the scenario's, or a new one.
func (e *execution) physicalID(logicalID string) string {
	if old := e.st.tpl; old != nil && old.Resources[logicalID] != nil && old.Resources[logicalID].physicalID != "" {
		return old.Resources[logicalID].physicalID
	}
	if id := e.sc.PhysicalIDs[logicalID]; id != "" {
		return id
	}
	return fmt.Sprintf("%s-%s-%06d", e.st.name, logicalID, e.f.seq)
}

type applyOutcome int

const (
	applied     applyOutcome = iota
	applyFailed              // the scenario's FailResource failed
	applyHung                // the scenario hangs on the first resource
)

// applyChanges plans the creates and updates in the change set's order
// (removals wait for the cleanup phase), up to the scenario's failing
// resource or hang. It returns the changes it applied, the failed one
// included, for the rollback.
func (e *execution) applyChanges() ([]cfnChange, applyOutcome) {
	var done []cfnChange
	for _, c := range e.cs.changes {
		if c.action == "Remove" {
			continue
		}
		physical := e.physicalID(c.logicalID)
		e.cs.tpl.Resources[c.logicalID].physicalID = physical
		op := "UPDATE"
		if c.action == "Add" {
			op = "CREATE"
		}
		e.resource(c, physical, op+"_IN_PROGRESS", "", e.st.status)
		if e.sc.Hang { // the first resource never finishes
			return done, applyHung
		}
		if c.logicalID == e.sc.FailResource {
			reason := e.sc.FailReason
			if reason == "" {
				reason = "Resource handler returned message: \"simulated failure\""
			}
			e.resource(c, physical, op+"_FAILED", reason, e.st.status)
			return append(done, c), applyFailed
		}
		e.resource(c, physical, op+"_COMPLETE", "", e.st.status)
		done = append(done, c)
	}
	return done, applied
}

// rollBack plans the rollback after a failed resource: what the operation
// created is deleted, what it updated is updated back, newest first.
func (e *execution) rollBack(done []cfnChange) {
	rb, what := "ROLLBACK", "create"
	if e.verb == "UPDATE" {
		rb, what = "UPDATE_ROLLBACK", "update"
	}
	inProgress := rb + "_IN_PROGRESS"
	e.stack(inProgress, fmt.Sprintf("The following resource(s) failed to %s: [%s]. Rollback requested by user.", what, e.sc.FailResource))
	for i := len(done) - 1; i >= 0; i-- {
		c := done[i]
		r := e.cs.tpl.Resources[c.logicalID]
		switch {
		case c.action == "Add" && r.DeletionPolicy == "Retain":
			// DeletionPolicy Retain applies to a rollback too: the
			// resource is kept (DELETE_SKIPPED) and outlives the stack;
			// RetainExceptOnCreate deletes what this operation created.
			// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
			e.resource(c, r.physicalID, "DELETE_SKIPPED", "", inProgress)
		case c.action == "Add":
			e.resource(c, r.physicalID, "DELETE_IN_PROGRESS", "", inProgress)
			e.resource(c, r.physicalID, "DELETE_COMPLETE", "", inProgress)
		default:
			e.resource(c, r.physicalID, "UPDATE_IN_PROGRESS", "", inProgress)
			e.resource(c, r.physicalID, "UPDATE_COMPLETE", "", inProgress)
		}
	}
	if e.verb == "UPDATE" {
		e.stack("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "")
	}
	e.stack(rb+"_COMPLETE", "")
}

// cleanUp plans an update's cleanup phase: the removed resources are
// deleted.
func (e *execution) cleanUp() {
	if e.verb != "UPDATE" {
		return
	}
	const cleanup = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
	e.stack(cleanup, "")
	for _, c := range e.cs.changes {
		if c.action != "Remove" {
			continue
		}
		physical := e.st.tpl.Resources[c.logicalID].physicalID
		e.resource(c, physical, "DELETE_IN_PROGRESS", "", cleanup)
		e.resource(c, physical, "DELETE_COMPLETE", "", cleanup)
	}
}

// complete plans the final event, which makes the change set's template,
// parameters, tags and outputs the stack's.
func (e *execution) complete() {
	st, cs, sc := e.st, e.cs, e.sc
	final := e.verb + "_COMPLETE"
	e.add(e.f.stackEvent(st, final, "", time.Time{}), final, func() {
		st.body, st.tpl, st.params, st.tags = cs.body, cs.tpl, cs.params, cs.tags
		st.outputs = map[string]string{}
		for k, o := range cs.tpl.Outputs {
			if s, ok := o.Value.(string); ok {
				st.outputs[k] = s
			}
		}
		for k, v := range sc.Outputs {
			st.outputs[k] = v
		}
	})
}

// advance plays the next steps of the stack's operation in progress.
func (f *CloudFormation) advance(st *cfnStack) {
	n := f.scenario(st.name).StepsPerPoll
	for ; n > 0 && len(st.pending) > 0; n-- {
		step := st.pending[0]
		st.pending = st.pending[1:]
		ev := step.event
		ev.at = f.tick()
		st.events = append(st.events, ev)
		st.status = step.status
		if ev.typ == "AWS::CloudFormation::Stack" {
			st.reason = ev.reason
		} else {
			if st.resources == nil {
				st.resources = map[string]cfnResourceState{}
			}
			st.resources[ev.logicalID] = cfnResourceState{typ: ev.typ, physicalID: ev.physicalID, status: ev.status}
		}
		if step.apply != nil {
			step.apply()
		}
	}
}

// findStack resolves a name (live stacks only) or an ID (deleted too).
