package awsfake

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// createChangeSet validates the request as CloudFormation does (template,
// capabilities, parameters, the stack's state) and records a change set
// listing what the template changes; DescribeChangeSet polls make it
// ready.
func (f *CloudFormation) createChangeSet(form url.Values) (any, error) {
	name, csName := form.Get("StackName"), form.Get("ChangeSetName")
	if name == "" || csName == "" {
		return nil, Errorf("ValidationError", "StackName and ChangeSetName are required")
	}
	kind := form.Get("ChangeSetType")
	if kind == "" {
		kind = "UPDATE"
	}
	body := form.Get("TemplateBody")
	tpl, err := parseCFNTemplate(body)
	if err != nil {
		return nil, err
	}
	if err := checkCapabilities(tpl, members(form, "Capabilities")); err != nil {
		return nil, err
	}
	st := f.stacks[name]
	var previous map[string]string
	if st != nil {
		previous = st.params
	}
	params := requestParameters(form, previous)
	if err := checkParameters(tpl, params); err != nil {
		return nil, err
	}
	if kind == "UPDATE" && st != nil && st.body == body && maps.Equal(st.params, params) && f.scenario(name).NoUpdatesError {
		return nil, Errorf("ValidationError", CFNNoUpdatesReason)
	}
	if st, err = f.changeSetTarget(name, kind, st); err != nil {
		return nil, err
	}
	for _, cs := range f.changeSets {
		if cs.stackID == st.id && cs.name == csName {
			return nil, Errorf("AlreadyExistsException", "ChangeSet %s already exists", csName)
		}
	}
	var old *cfnTemplate
	if kind == "UPDATE" {
		old = st.tpl
	}
	cs := &cfnChangeSet{
		id:      fmt.Sprintf("arn:aws:cloudformation:%s:%s:changeSet/%s/%08d-0000-4000-8000-000000000000", f.Region, f.Account, csName, len(f.changeSets)+f.seq+1),
		name:    csName,
		stackID: st.id,
		kind:    kind,
		status:  "CREATE_PENDING",
		body:    body,
		tpl:     tpl,
		params:  params,
		tags:    requestTags(form),
		changes: planChanges(old, tpl, st.params, params),
		created: f.tick(),
	}
	f.changeSets[cs.id] = cs
	return struct {
		XMLName xml.Name `xml:"x"`
		ID      string   `xml:"Id"`
		StackID string   `xml:"StackId"`
	}{ID: cs.id, StackID: st.id}, nil
}

// checkCapabilities refuses IAM resources without CAPABILITY_IAM or
// CAPABILITY_NAMED_IAM.
func checkCapabilities(tpl *cfnTemplate, capabilities []string) error {
	caps := strings.Join(capabilities, ",")
	for _, id := range sortedIDs(tpl) {
		if strings.HasPrefix(tpl.Resources[id].Type, "AWS::IAM::") && !strings.Contains(caps, "CAPABILITY_IAM") && !strings.Contains(caps, "CAPABILITY_NAMED_IAM") {
			return Errorf("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
		}
	}
	return nil
}

// changeSetTarget is the stack a change set of kind applies to: for
// CREATE, a new stack in REVIEW_IN_PROGRESS (or the one a previous CREATE
// change set left there); for UPDATE, a live stack in a state that can be
// updated.
func (f *CloudFormation) changeSetTarget(name, kind string, st *cfnStack) (*cfnStack, error) {
	switch kind {
	case "CREATE":
		if st != nil && st.status != "REVIEW_IN_PROGRESS" {
			return nil, Errorf("AlreadyExistsException", "Stack [%s] already exists", name)
		}
		if st == nil {
			now := f.tick()
			st = f.newStack(name, now)
			st.status = "REVIEW_IN_PROGRESS"
			st.events = append(st.events, f.stackEvent(st, "REVIEW_IN_PROGRESS", "User Initiated", now))
		}
		return st, nil
	case "UPDATE":
		if st == nil {
			return nil, Errorf("ValidationError", "Stack [%s] does not exist", name)
		}
		if st.status == "REVIEW_IN_PROGRESS" || strings.HasSuffix(st.status, "_IN_PROGRESS") || st.status == "ROLLBACK_COMPLETE" || st.status == "ROLLBACK_FAILED" {
			return nil, Errorf("ValidationError", "Stack:%s is in %s state and can not be updated.", st.id, st.status)
		}
		return st, nil
	}
	return nil, Errorf("ValidationError", "ChangeSetType %q is not CREATE or UPDATE", kind)
}

// planChanges lists what replacing old (nil for a new stack) with tpl,
// and oldParams with params, changes: resources added, removed, modified
// (replaced when the type changes), and those whose properties use a
// parameter whose value changed.
func planChanges(old, tpl *cfnTemplate, oldParams, params map[string]string) []cfnChange {
	var changes []cfnChange
	for _, id := range sortedIDs(tpl) {
		r := tpl.Resources[id]
		var o *cfnResource
		if old != nil {
			o = old.Resources[id]
		}
		switch {
		case o == nil:
			changes = append(changes, cfnChange{"Add", id, r.Type, ""})
		case o.Type != r.Type:
			changes = append(changes, cfnChange{"Modify", id, r.Type, "True"})
		case o.raw != r.raw:
			changes = append(changes, cfnChange{"Modify", id, r.Type, "Conditional"})
		default:
			for p, v := range params {
				if oldParams[p] != v && refersTo(r, p) {
					changes = append(changes, cfnChange{"Modify", id, r.Type, "False"})
					break
				}
			}
		}
	}
	for _, id := range sortedIDs(old) {
		if tpl.Resources[id] == nil {
			changes = append(changes, cfnChange{"Remove", id, old.Resources[id].Type, ""})
		}
	}
	return changes
}

// findChangeSet accepts an ARN, or a name with StackName.
func (f *CloudFormation) findChangeSet(form url.Values) (*cfnChangeSet, error) {
	ref := form.Get("ChangeSetName")
	if cs, ok := f.changeSets[ref]; ok {
		return cs, nil
	}
	stack := form.Get("StackName")
	for _, cs := range f.changeSets {
		st := f.byID[cs.stackID]
		if cs.name == ref && (st.name == stack || st.id == stack) {
			return cs, nil
		}
	}
	return nil, &APIError{Status: http.StatusNotFound, Type: "ChangeSetNotFound", Message: "ChangeSet [" + ref + "] does not exist"}
}

type cfnResourceChangeXML struct {
	Action             string `xml:"Action"`
	LogicalResourceID  string `xml:"LogicalResourceId"`
	PhysicalResourceID string `xml:"PhysicalResourceId,omitempty"`
	ResourceType       string `xml:"ResourceType"`
	Replacement        string `xml:"Replacement,omitempty"`
}

type cfnChangeXML struct {
	Type           string               `xml:"Type"`
	ResourceChange cfnResourceChangeXML `xml:"ResourceChange"`
}

type cfnParamXML struct {
	Key   string `xml:"ParameterKey"`
	Value string `xml:"ParameterValue"`
}

func (f *CloudFormation) describeChangeSet(form url.Values) (any, error) {
	cs, err := f.findChangeSet(form)
	if err != nil {
		return nil, err
	}
	st := f.byID[cs.stackID]
	sc := f.scenario(st.name)
	if cs.status == "CREATE_PENDING" || cs.status == "CREATE_IN_PROGRESS" {
		cs.polls++
		cs.status = "CREATE_IN_PROGRESS"
		if cs.polls > sc.ChangeSetPolls {
			cs.status = "CREATE_COMPLETE"
			if len(cs.changes) == 0 {
				cs.status, cs.reason = "FAILED", CFNNoChangesReason
			}
		}
	}
	exec := "UNAVAILABLE"
	switch cs.status {
	case "CREATE_COMPLETE":
		exec = "AVAILABLE"
	case "EXECUTE_COMPLETE":
		exec = "EXECUTE_COMPLETE"
	}
	start, err := pageStart(form.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	var changes []cfnChangeXML
	end := min(start+f.pageSize(), len(cs.changes))
	if cs.status == "CREATE_COMPLETE" || cs.status == "EXECUTE_COMPLETE" {
		for _, c := range cs.changes[min(start, end):end] {
			rc := cfnResourceChangeXML{Action: c.action, LogicalResourceID: c.logicalID, ResourceType: c.typ, Replacement: c.replacement}
			if old := st.tpl; old != nil && old.Resources[c.logicalID] != nil {
				rc.PhysicalResourceID = old.Resources[c.logicalID].physicalID
			}
			changes = append(changes, cfnChangeXML{Type: "Resource", ResourceChange: rc})
		}
	}
	next := ""
	if end < len(cs.changes) && len(changes) > 0 {
		next = strconv.Itoa(end)
	}
	var params []cfnParamXML
	for _, k := range slices.Sorted(maps.Keys(cs.params)) {
		params = append(params, cfnParamXML{k, cs.params[k]})
	}
	return struct {
		XMLName         xml.Name       `xml:"x"`
		ChangeSetName   string         `xml:"ChangeSetName"`
		ChangeSetID     string         `xml:"ChangeSetId"`
		StackID         string         `xml:"StackId"`
		StackName       string         `xml:"StackName"`
		CreationTime    string         `xml:"CreationTime"`
		ExecutionStatus string         `xml:"ExecutionStatus"`
		Status          string         `xml:"Status"`
		StatusReason    string         `xml:"StatusReason,omitempty"`
		Parameters      []cfnParamXML  `xml:"Parameters>member"`
		Changes         []cfnChangeXML `xml:"Changes>member"`
		NextToken       string         `xml:"NextToken,omitempty"`
	}{
		ChangeSetName: cs.name, ChangeSetID: cs.id, StackID: st.id, StackName: st.name,
		CreationTime: cs.created.Format(cfnTime), ExecutionStatus: exec, Status: cs.status, StatusReason: cs.reason,
		Parameters: params, Changes: changes, NextToken: next,
	}, nil
}

const cfnTime = "2006-01-02T15:04:05.000Z"

func pageStart(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(token)
	if err != nil || n < 0 {
		return 0, Errorf("ValidationError", "Invalid NextToken")
	}
	return n, nil
}

func (f *CloudFormation) deleteChangeSet(form url.Values) (any, error) {
	cs, err := f.findChangeSet(form)
	if err != nil {
		return nil, err
	}
	if cs.status == "EXECUTE_IN_PROGRESS" {
		return nil, Errorf("InvalidChangeSetStatus", "Cannot delete ChangeSet %s in status EXECUTE_IN_PROGRESS", cs.id)
	}
	delete(f.changeSets, cs.id)
	return emptyResult{}, nil
}
