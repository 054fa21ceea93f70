package awsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cfnXMLNS is CloudFormation's API namespace.
const cfnXMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

// Messages CloudFormation returns for a change set without changes; the
// deploy code recognises them, so they are spelled exactly as AWS does.
const (
	CFNNoChangesReason = "The submitted information didn't contain changes. Submit different information to create a change set."
	CFNNoUpdatesReason = "No updates are to be performed."
)

// CFNScenario scripts how a stack's operations play out. Every
// DescribeStacks call naming the stack advances an operation in progress
// by StepsPerPoll events, so a test controls progress by polling.
type CFNScenario struct {
	// StepsPerPoll is how many events each DescribeStacks call plays
	// (default 1).
	StepsPerPoll int
	// ChangeSetPolls is how many DescribeChangeSet calls see
	// CREATE_IN_PROGRESS before the change set is ready (default 1).
	ChangeSetPolls int
	// FailResource is the logical ID whose create or update fails, which
	// rolls the stack back; FailReason is its ResourceStatusReason.
	FailResource, FailReason string
	// FailDelete is the logical ID whose deletion fails (DELETE_FAILED).
	FailDelete, FailDeleteReason string
	// Hang leaves the operation in progress forever after its first
	// resource starts (for timeout tests).
	Hang bool
	// Outputs are the stack's outputs once an operation completes; outputs
	// of the template whose Value is a plain string are added too.
	Outputs map[string]string
	// NoUpdatesError makes an UPDATE CreateChangeSet with the stack's own
	// template and parameters fail with ValidationError "No updates are to
	// be performed." instead of making a FAILED change set, as moto does
	// (moto/cloudformation/responses.py, _validate_different_update).
	NoUpdatesError bool
	// PhysicalIDs names resources the operation creates, by logical ID
	// (default <stack>-<logical ID>-<sequence>), so they can agree with
	// Outputs.
	PhysicalIDs map[string]string
}

// CloudFormation is a fake of the CloudFormation query API (form-encoded
// POST with Action and Version=2010-05-15, XML replies, <ErrorResponse>
// errors), enough for change-set deploys, event streaming and deletes:
// CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
// DescribeStacks, DescribeStackEvents, DescribeStackResources, DeleteStack,
// GetTemplate.
// Templates are JSON; resources are read from them so change sets list
// real logical IDs and types.
type CloudFormation struct {
	// Account and Region go into ARNs.
	Account, Region string
	// PageSize bounds DescribeStackEvents and DescribeChangeSet pages
	// (default 100, as AWS), so tests can exercise pagination.
	PageSize int

	mu         sync.Mutex
	stacks     map[string]*cfnStack // live stacks by name
	byID       map[string]*cfnStack // every stack ever, by ID
	changeSets map[string]*cfnChangeSet
	scenarios  map[string]CFNScenario
	calls      []string
	clock      time.Time
	seq        int
}

// NewCloudFormation returns an empty fake.
func NewCloudFormation() *CloudFormation {
	return &CloudFormation{
		Account:    "123456789012",
		Region:     "us-east-1",
		stacks:     map[string]*cfnStack{},
		byID:       map[string]*cfnStack{},
		changeSets: map[string]*cfnChangeSet{},
		scenarios:  map[string]CFNScenario{},
		clock:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// SetScenario scripts the next operations on the named stack.
func (f *CloudFormation) SetScenario(stack string, s CFNScenario) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scenarios[stack] = s
}

// Calls lists the actions received, in order.
func (f *CloudFormation) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// PutStack sets a live stack as a finished deploy would leave it: its
// status and outputs, with no template. For tests of code that only reads
// a deployed stack (the day-2 commands); calling it again replaces the
// status and outputs, keeping the stack's ID.
func (f *CloudFormation) PutStack(name, status string, outputs map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.stacks[name]
	if !ok {
		st = f.newStack(name, f.tick())
	}
	st.status = status
	st.outputs = maps.Clone(outputs)
}

// PutResource records a resource of a live stack as DescribeStackResources
// lists it (CREATE_COMPLETE), for tests of code that finds resources by
// logical ID when an output is missing.
func (f *CloudFormation) PutResource(stack, logicalID, typ, physicalID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.stacks[stack]
	if !ok {
		st = f.newStack(stack, f.tick())
	}
	if st.resources == nil {
		st.resources = map[string]cfnResourceState{}
	}
	st.resources[logicalID] = cfnResourceState{typ: typ, physicalID: physicalID, status: "CREATE_COMPLETE"}
}

// newStack registers a new live stack with a fresh ID; f.mu is held.
func (f *CloudFormation) newStack(name string, created time.Time) *cfnStack {
	st := &cfnStack{
		id:      fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%08d-0000-4000-8000-000000000000", f.Region, f.Account, name, len(f.byID)+1),
		name:    name,
		created: created,
	}
	f.stacks[name], f.byID[st.id] = st, st
	return st
}

// StackStatus returns a live stack's status.
func (f *CloudFormation) StackStatus(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.stacks[name]
	if !ok {
		return "", false
	}
	return s.status, true
}

// StackParameters returns a live stack's current parameters.
func (f *CloudFormation) StackParameters(name string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.stacks[name]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range s.params {
		out[k] = v
	}
	return out
}

type cfnResource struct {
	Type           string          `json:"Type"`
	Properties     json.RawMessage `json:"Properties"`
	DeletionPolicy string          `json:"DeletionPolicy"`
	raw            string
	physicalID     string
}

type cfnTemplate struct {
	Resources map[string]*cfnResource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type cfnEvent struct {
	id, logicalID, physicalID, typ, status, reason string
	at                                             time.Time
}

// cfnStep is one event of an operation in progress, the stack status it
// leaves, and what it changes when played.
type cfnStep struct {
	event  cfnEvent
	status string
	apply  func()
}

type cfnStack struct {
	id, name       string
	status, reason string
	created        time.Time
	body           string
	tpl            *cfnTemplate
	params         map[string]string
	tags           map[string]string // stack-level tags, from the change set
	outputs        map[string]string
	events         []cfnEvent // oldest first
	pending        []cfnStep
	deleted        bool
	// resources is each resource's latest state, from the events played.
	resources map[string]cfnResourceState
}

type cfnResourceState struct {
	typ, physicalID, status string
}

type cfnChange struct {
	action, logicalID, typ, replacement string
}

type cfnChangeSet struct {
	id, name, stackID, kind string
	status, reason          string
	polls                   int
	body                    string
	tpl                     *cfnTemplate
	params                  map[string]string
	tags                    map[string]string
	changes                 []cfnChange
	created                 time.Time
}

func (f *CloudFormation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		cfnError(w, Errorf("MalformedQueryString", "reading body: %v", err))
		return
	}
	form, perr := url.ParseQuery(string(body))
	action := form.Get("Action")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, action)
	if perr != nil || r.Method != http.MethodPost {
		cfnError(w, Errorf("MalformedQueryString", "expected a form-encoded POST"))
		return
	}
	if v := form.Get("Version"); v != "2010-05-15" {
		cfnError(w, Errorf("InvalidParameterValue", "Version %q is not 2010-05-15", v))
		return
	}
	var result any
	switch action {
	case "CreateChangeSet":
		result, err = f.createChangeSet(form)
	case "DescribeChangeSet":
		result, err = f.describeChangeSet(form)
	case "ExecuteChangeSet":
		result, err = f.executeChangeSet(form)
	case "DeleteChangeSet":
		result, err = f.deleteChangeSet(form)
	case "DescribeStacks":
		result, err = f.describeStacks(form)
	case "DescribeStackEvents":
		result, err = f.describeStackEvents(form)
	case "DescribeStackResources":
		result, err = f.describeStackResources(form)
	case "DeleteStack":
		result, err = f.deleteStack(form)
	case "GetTemplate":
		result, err = f.getTemplate(form)
	default:
		err = Errorf("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	if err != nil {
		cfnError(w, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(`<` + action + `Response xmlns="` + cfnXMLNS + `">`)
	if result != nil { // DeleteStack's reply, like AWS's, has no Result element
		inner, err := xml.Marshal(result)
		if err != nil {
			cfnError(w, err)
			return
		}
		buf.WriteString(`<` + action + `Result>`)
		buf.Write(stripOuter(inner))
		buf.WriteString(`</` + action + `Result>`)
	}
	buf.WriteString(`<ResponseMetadata><RequestId>` + f.requestID() + `</RequestId></ResponseMetadata></` + action + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(buf.Bytes())
}

func (f *CloudFormation) requestID() string {
	f.seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq)
}

func cfnError(w http.ResponseWriter, err error) {
	ae, status := apiErrorOf(err)
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(`<ErrorResponse xmlns="` + cfnXMLNS + `"><Error><Type>` + kind + `</Type><Code>`)
	_ = xml.EscapeText(&buf, []byte(ae.Type))
	buf.WriteString(`</Code><Message>`)
	_ = xml.EscapeText(&buf, []byte(ae.Message))
	buf.WriteString(`</Message></Error><RequestId>00000000-0000-4000-8000-error</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (f *CloudFormation) scenario(stack string) CFNScenario {
	s := f.scenarios[stack]
	if s.StepsPerPoll <= 0 {
		s.StepsPerPoll = 1
	}
	if s.ChangeSetPolls <= 0 {
		s.ChangeSetPolls = 1
	}
	return s
}

func (f *CloudFormation) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *CloudFormation) pageSize() int {
	if f.PageSize <= 0 {
		return 100
	}
	return f.PageSize
}

// members reads a query list: Prefix.member.1, Prefix.member.2, ...
func members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func parseCFNTemplate(body string) (*cfnTemplate, error) {
	var t cfnTemplate
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return nil, Errorf("ValidationError", "Template format error: JSON not well-formed. (%v)", err)
	}
	if len(t.Resources) == 0 {
		return nil, Errorf("ValidationError", "Template format error: At least one Resources member must be defined.")
	}
	for id, r := range t.Resources {
		if r == nil || r.Type == "" {
			return nil, Errorf("ValidationError", "Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
		}
		raw, _ := json.Marshal(struct {
			Type       string
			Properties json.RawMessage `json:",omitempty"`
			Policy     string
		}{r.Type, compactJSON(r.Properties), r.DeletionPolicy})
		r.raw = string(raw)
	}
	return &t, nil
}

func compactJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func sortedIDs(t *cfnTemplate) []string {
	if t == nil {
		return nil
	}
	ids := slices.Sorted(maps.Keys(t.Resources))
	return ids
}

// refersTo reports whether a resource's properties use the parameter.
func refersTo(r *cfnResource, param string) bool {
	return strings.Contains(r.raw, `{"Ref":"`+param+`"}`) || strings.Contains(r.raw, "${"+param+"}")
}

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
	caps := strings.Join(members(form, "Capabilities"), ",")
	for _, id := range sortedIDs(tpl) {
		if strings.HasPrefix(tpl.Resources[id].Type, "AWS::IAM::") && !strings.Contains(caps, "CAPABILITY_IAM") && !strings.Contains(caps, "CAPABILITY_NAMED_IAM") {
			return nil, Errorf("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
		}
	}
	params := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Parameters.member." + strconv.Itoa(i) + ".ParameterKey")
		if k == "" {
			break
		}
		params[k] = form.Get("Parameters.member." + strconv.Itoa(i) + ".ParameterValue")
	}
	tags := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Tags.member." + strconv.Itoa(i) + ".Key")
		if k == "" {
			break
		}
		tags[k] = form.Get("Tags.member." + strconv.Itoa(i) + ".Value")
	}

	st := f.stacks[name]
	if kind == "UPDATE" && st != nil && st.body == body && maps.Equal(st.params, params) && f.scenario(name).NoUpdatesError {
		return nil, Errorf("ValidationError", CFNNoUpdatesReason)
	}
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
	case "UPDATE":
		if st == nil {
			return nil, Errorf("ValidationError", "Stack [%s] does not exist", name)
		}
		if st.status == "REVIEW_IN_PROGRESS" || strings.HasSuffix(st.status, "_IN_PROGRESS") || st.status == "ROLLBACK_COMPLETE" || st.status == "ROLLBACK_FAILED" {
			return nil, Errorf("ValidationError", "Stack:%s is in %s state and can not be updated.", st.id, st.status)
		}
	default:
		return nil, Errorf("ValidationError", "ChangeSetType %q is not CREATE or UPDATE", kind)
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
				if st.params[p] != v && refersTo(r, p) {
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
	cs := &cfnChangeSet{
		id:      fmt.Sprintf("arn:aws:cloudformation:%s:%s:changeSet/%s/%08d-0000-4000-8000-000000000000", f.Region, f.Account, csName, len(f.changeSets)+f.seq+1),
		name:    csName,
		stackID: st.id,
		kind:    kind,
		status:  "CREATE_PENDING",
		body:    body,
		tpl:     tpl,
		params:  params,
		tags:    tags,
		changes: changes,
		created: f.tick(),
	}
	f.changeSets[cs.id] = cs
	return struct {
		XMLName xml.Name `xml:"x"`
		ID      string   `xml:"Id"`
		StackID string   `xml:"StackId"`
	}{ID: cs.id, StackID: st.id}, nil
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
	return struct {
		XMLName xml.Name `xml:"x"`
	}{}, nil
}

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
	sc := f.scenario(st.name)
	cs.status = "EXECUTE_COMPLETE"
	// AWS deletes the stack's change sets, this one included, once one
	// executes.
	for id, other := range f.changeSets {
		if other.stackID == st.id {
			delete(f.changeSets, id)
		}
	}

	create := cs.kind == "CREATE"
	verb := "UPDATE"
	if create {
		verb = "CREATE"
	}
	st.status = verb + "_IN_PROGRESS"
	st.reason = "User Initiated"
	st.events = append(st.events, f.stackEvent(st, st.status, "User Initiated", f.tick()))

	old := st.tpl
	if old != nil {
		for id, r := range cs.tpl.Resources {
			if o := old.Resources[id]; o != nil {
				r.physicalID = o.physicalID
			}
		}
	}
	var steps []cfnStep
	add := func(ev cfnEvent, status string, apply func()) {
		steps = append(steps, cfnStep{event: ev, status: status, apply: apply})
	}
	var done []cfnChange // applied so far, for rollback
	failed := false
	for _, c := range cs.changes {
		if c.action == "Remove" {
			continue // removals happen in the cleanup phase
		}
		res := cs.tpl.Resources[c.logicalID]
		physical := ""
		if old != nil && old.Resources[c.logicalID] != nil {
			physical = old.Resources[c.logicalID].physicalID
		}
		if physical == "" {
			physical = sc.PhysicalIDs[c.logicalID]
		}
		if physical == "" {
			physical = fmt.Sprintf("%s-%s-%06d", st.name, c.logicalID, f.seq)
		}
		res.physicalID = physical
		op := "UPDATE"
		if c.action == "Add" {
			op = "CREATE"
		}
		add(f.resourceEvent(st, c.logicalID, c.typ, physical, op+"_IN_PROGRESS", ""), st.status, nil)
		if sc.Hang { // the first resource never finishes
			st.pending = steps
			return struct {
				XMLName xml.Name `xml:"x"`
			}{}, nil
		}
		if c.logicalID == sc.FailResource {
			reason := sc.FailReason
			if reason == "" {
				reason = "Resource handler returned message: \"simulated failure\""
			}
			add(f.resourceEvent(st, c.logicalID, c.typ, physical, op+"_FAILED", reason), st.status, nil)
			failed = true
			done = append(done, c)
			break
		}
		add(f.resourceEvent(st, c.logicalID, c.typ, physical, op+"_COMPLETE", ""), st.status, nil)
		done = append(done, c)
	}

	if failed {
		rb := "ROLLBACK"
		what := "create"
		if !create {
			rb, what = "UPDATE_ROLLBACK", "update"
		}
		add(f.stackEvent(st, rb+"_IN_PROGRESS", fmt.Sprintf("The following resource(s) failed to %s: [%s]. Rollback requested by user.", what, sc.FailResource), time.Time{}), rb+"_IN_PROGRESS", nil)
		for i := len(done) - 1; i >= 0; i-- {
			c := done[i]
			physical := cs.tpl.Resources[c.logicalID].physicalID
			if c.action == "Add" {
				// DeletionPolicy Retain applies to a rollback too: the
				// resource is kept (DELETE_SKIPPED) and outlives the
				// stack; RetainExceptOnCreate deletes what this
				// operation created.
				// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
				if cs.tpl.Resources[c.logicalID].DeletionPolicy == "Retain" {
					add(f.resourceEvent(st, c.logicalID, c.typ, physical, "DELETE_SKIPPED", ""), rb+"_IN_PROGRESS", nil)
					continue
				}
				add(f.resourceEvent(st, c.logicalID, c.typ, physical, "DELETE_IN_PROGRESS", ""), rb+"_IN_PROGRESS", nil)
				add(f.resourceEvent(st, c.logicalID, c.typ, physical, "DELETE_COMPLETE", ""), rb+"_IN_PROGRESS", nil)
			} else {
				add(f.resourceEvent(st, c.logicalID, c.typ, physical, "UPDATE_IN_PROGRESS", ""), rb+"_IN_PROGRESS", nil)
				add(f.resourceEvent(st, c.logicalID, c.typ, physical, "UPDATE_COMPLETE", ""), rb+"_IN_PROGRESS", nil)
			}
		}
		if !create {
			add(f.stackEvent(st, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "", time.Time{}), "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", nil)
		}
		add(f.stackEvent(st, rb+"_COMPLETE", "", time.Time{}), rb+"_COMPLETE", nil)
		st.pending = steps
		return struct {
			XMLName xml.Name `xml:"x"`
		}{}, nil
	}

	var removals []cfnChange
	for _, c := range cs.changes {
		if c.action == "Remove" {
			removals = append(removals, c)
		}
	}
	final := verb + "_COMPLETE"
	if !create {
		add(f.stackEvent(st, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "", time.Time{}), "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", nil)
		for _, c := range removals {
			physical := old.Resources[c.logicalID].physicalID
			add(f.resourceEvent(st, c.logicalID, c.typ, physical, "DELETE_IN_PROGRESS", ""), "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", nil)
			add(f.resourceEvent(st, c.logicalID, c.typ, physical, "DELETE_COMPLETE", ""), "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", nil)
		}
	}
	add(f.stackEvent(st, final, "", time.Time{}), final, func() {
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
	st.pending = steps
	return struct {
		XMLName xml.Name `xml:"x"`
	}{}, nil
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
