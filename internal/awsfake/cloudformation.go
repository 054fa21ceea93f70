package awsfake

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
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
