package awsfake

import (
	"encoding/xml"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (f *CloudFormation) findStack(ref string) (*cfnStack, error) {
	if st, ok := f.stacks[ref]; ok {
		return st, nil
	}
	if st, ok := f.byID[ref]; ok {
		return st, nil
	}
	return nil, Errorf("ValidationError", "Stack with id %s does not exist", ref)
}

type cfnOutputXML struct {
	Key   string `xml:"OutputKey"`
	Value string `xml:"OutputValue"`
}

type cfnStackXML struct {
	StackID      string         `xml:"StackId"`
	StackName    string         `xml:"StackName"`
	CreationTime string         `xml:"CreationTime"`
	StackStatus  string         `xml:"StackStatus"`
	StatusReason string         `xml:"StackStatusReason,omitempty"`
	Parameters   []cfnParamXML  `xml:"Parameters>member"`
	Outputs      []cfnOutputXML `xml:"Outputs>member"`
	Tags         []cfnTagXML    `xml:"Tags>member"`
}

type cfnTagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (f *CloudFormation) describeStacks(form url.Values) (any, error) {
	var list []*cfnStack
	if ref := form.Get("StackName"); ref != "" {
		st, err := f.findStack(ref)
		if err != nil {
			return nil, err
		}
		f.advance(st)
		list = append(list, st)
	} else {
		for _, name := range slices.Sorted(maps.Keys(f.stacks)) {
			st := f.stacks[name]
			f.advance(st)
			if !st.deleted { // without a name, AWS lists live stacks only
				list = append(list, st)
			}
		}
	}
	var out []cfnStackXML
	for _, st := range list {
		x := cfnStackXML{StackID: st.id, StackName: st.name, CreationTime: st.created.Format(cfnTime), StackStatus: st.status, StatusReason: st.reason}
		for _, k := range slices.Sorted(maps.Keys(st.params)) {
			x.Parameters = append(x.Parameters, cfnParamXML{k, st.params[k]})
		}
		for _, k := range slices.Sorted(maps.Keys(st.outputs)) {
			x.Outputs = append(x.Outputs, cfnOutputXML{k, st.outputs[k]})
		}
		for _, k := range slices.Sorted(maps.Keys(st.tags)) {
			x.Tags = append(x.Tags, cfnTagXML{k, st.tags[k]})
		}
		out = append(out, x)
	}
	return struct {
		XMLName xml.Name      `xml:"x"`
		Stacks  []cfnStackXML `xml:"Stacks>member"`
	}{Stacks: out}, nil
}

type cfnEventXML struct {
	StackID              string `xml:"StackId"`
	EventID              string `xml:"EventId"`
	StackName            string `xml:"StackName"`
	LogicalResourceID    string `xml:"LogicalResourceId"`
	PhysicalResourceID   string `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string `xml:"ResourceType"`
	Timestamp            string `xml:"Timestamp"`
	ResourceStatus       string `xml:"ResourceStatus"`
	ResourceStatusReason string `xml:"ResourceStatusReason,omitempty"`
}

func (f *CloudFormation) describeStackEvents(form url.Values) (any, error) {
	st, err := f.findStack(form.Get("StackName"))
	if err != nil {
		return nil, err
	}
	start, err := pageStart(form.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	var page []cfnEventXML
	n := len(st.events)
	end := min(start+f.pageSize(), n)
	for i := start; i < end; i++ {
		ev := st.events[n-1-i] // newest first, as AWS
		page = append(page, cfnEventXML{
			StackID: st.id, EventID: ev.id, StackName: st.name, LogicalResourceID: ev.logicalID,
			PhysicalResourceID: ev.physicalID, ResourceType: ev.typ, Timestamp: ev.at.Format(cfnTime),
			ResourceStatus: ev.status, ResourceStatusReason: ev.reason,
		})
	}
	next := ""
	if end < n {
		next = strconv.Itoa(end)
	}
	return struct {
		XMLName   xml.Name      `xml:"x"`
		Events    []cfnEventXML `xml:"StackEvents>member"`
		NextToken string        `xml:"NextToken,omitempty"`
	}{Events: page, NextToken: next}, nil
}

type cfnStackResourceXML struct {
	StackID            string `xml:"StackId"`
	StackName          string `xml:"StackName"`
	LogicalResourceID  string `xml:"LogicalResourceId"`
	PhysicalResourceID string `xml:"PhysicalResourceId,omitempty"`
	ResourceType       string `xml:"ResourceType"`
	Timestamp          string `xml:"Timestamp"`
	ResourceStatus     string `xml:"ResourceStatus"`
}

// describeStackResources lists a stack's resources, or the one named by
// LogicalResourceId, as their latest events left them. Without StackName,
// PhysicalResourceId finds the live stack that owns that resource, as AWS
// does.
func (f *CloudFormation) describeStackResources(form url.Values) (any, error) {
	ref := form.Get("StackName")
	if phys := form.Get("PhysicalResourceId"); ref == "" && phys != "" {
		for _, name := range slices.Sorted(maps.Keys(f.stacks)) {
			for _, r := range f.stacks[name].resources {
				if r.physicalID == phys && !strings.HasPrefix(r.status, "DELETE_") {
					ref = name
				}
			}
		}
		if ref == "" {
			return nil, Errorf("ValidationError", "Stack for %s does not exist", phys)
		}
	}
	st, err := f.findStack(ref)
	if err != nil {
		return nil, err
	}
	f.advance(st)
	want := form.Get("LogicalResourceId")
	var out []cfnStackResourceXML
	for _, id := range slices.Sorted(maps.Keys(st.resources)) {
		if want != "" && id != want {
			continue
		}
		r := st.resources[id]
		out = append(out, cfnStackResourceXML{StackID: st.id, StackName: st.name, LogicalResourceID: id,
			PhysicalResourceID: r.physicalID, ResourceType: r.typ, Timestamp: f.clock.Format(cfnTime), ResourceStatus: r.status})
	}
	return struct {
		XMLName   xml.Name              `xml:"x"`
		Resources []cfnStackResourceXML `xml:"StackResources>member"`
	}{Resources: out}, nil
}

func (f *CloudFormation) deleteStack(form url.Values) (any, error) {
	ref := form.Get("StackName")
	st, err := f.findStack(ref)
	if err != nil || st.deleted {
		return nil, nil // AWS: deleting a stack that does not exist succeeds
	}
	if st.status == "DELETE_IN_PROGRESS" {
		return nil, nil
	}
	if strings.HasSuffix(st.status, "_IN_PROGRESS") && st.status != "REVIEW_IN_PROGRESS" {
		return nil, Errorf("ValidationError", "Stack [%s] cannot be deleted while in status %s", st.name, st.status)
	}
	sc := f.scenario(st.name)
	st.status, st.reason = "DELETE_IN_PROGRESS", "User Initiated"
	st.events = append(st.events, f.stackEvent(st, "DELETE_IN_PROGRESS", "User Initiated", f.tick()))
	var steps []cfnStep
	add := func(ev cfnEvent, status string, apply func()) {
		steps = append(steps, cfnStep{event: ev, status: status, apply: apply})
	}
	ids := sortedIDs(st.tpl)
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		r := st.tpl.Resources[id]
		if r.DeletionPolicy == "Retain" || r.DeletionPolicy == "RetainExceptOnCreate" {
			add(f.resourceEvent(st, id, r.Type, r.physicalID, "DELETE_SKIPPED", ""), "DELETE_IN_PROGRESS", nil)
			continue
		}
		add(f.resourceEvent(st, id, r.Type, r.physicalID, "DELETE_IN_PROGRESS", ""), "DELETE_IN_PROGRESS", nil)
		if id == sc.FailDelete {
			reason := sc.FailDeleteReason
			if reason == "" {
				reason = "simulated delete failure"
			}
			add(f.resourceEvent(st, id, r.Type, r.physicalID, "DELETE_FAILED", reason), "DELETE_IN_PROGRESS", nil)
			add(f.stackEvent(st, "DELETE_FAILED", "The following resource(s) failed to delete: ["+id+"]. ", time.Time{}), "DELETE_FAILED", nil)
			st.pending = steps
			return nil, nil
		}
		add(f.resourceEvent(st, id, r.Type, r.physicalID, "DELETE_COMPLETE", ""), "DELETE_IN_PROGRESS", nil)
	}
	add(f.stackEvent(st, "DELETE_COMPLETE", "", time.Time{}), "DELETE_COMPLETE", func() {
		st.deleted = true
		delete(f.stacks, st.name)
		for id, cs := range f.changeSets {
			if cs.stackID == st.id {
				delete(f.changeSets, id)
			}
		}
	})
	if sc.Hang {
		steps = steps[:1]
	}
	st.pending = steps
	return nil, nil
}

func (f *CloudFormation) getTemplate(form url.Values) (any, error) {
	st, err := f.findStack(form.Get("StackName"))
	if err != nil {
		return nil, err
	}
	return struct {
		XMLName      xml.Name `xml:"x"`
		TemplateBody string   `xml:"TemplateBody"`
	}{TemplateBody: st.body}, nil
}
