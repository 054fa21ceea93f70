package awsfake

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// queryXMLFake answers the awsQuery protocol for the fakes in this file
// and sts.go: a form-encoded POST naming Action and Version, an XML
// <ActionResponse><ActionResult> reply, and <ErrorResponse> errors. It is
// kept local (the CloudFormation fake has its own) so each side can evolve.
type queryXMLFake struct {
	xmlns string
	ops   map[string]func(form url.Values) (any, error)

	mu    sync.Mutex
	calls []string
}

// Calls returns the actions received, in order.
func (q *queryXMLFake) Calls() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.calls...)
}

func (q *queryXMLFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		q.writeError(w, Errorf("MalformedQueryString", "reading body: %v", err))
		return
	}
	form, err := url.ParseQuery(string(body))
	action := form.Get("Action")
	q.mu.Lock()
	q.calls = append(q.calls, action)
	q.mu.Unlock()
	if err != nil || r.Method != http.MethodPost {
		q.writeError(w, Errorf("MalformedQueryString", "expected a form-encoded POST"))
		return
	}
	if form.Get("Version") == "" {
		q.writeError(w, Errorf("MissingParameter", "Version is required"))
		return
	}
	op, ok := q.ops[action]
	if !ok {
		q.writeError(w, Errorf("InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	result, err := op(form)
	if err != nil {
		q.writeError(w, err)
		return
	}
	var buf []byte
	buf = append(buf, xml.Header...)
	buf = append(buf, `<`+action+`Response xmlns="`+q.xmlns+`"><`+action+`Result>`...)
	inner, err := xml.Marshal(result)
	if err != nil {
		q.writeError(w, err)
		return
	}
	// result marshals as <x>...</x>; keep only its children.
	buf = append(buf, stripOuter(inner)...)
	buf = append(buf, `</`+action+`Result><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></`+action+`Response>`...)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(buf)
}

// stripOuter removes the outermost element tags of a marshalled value.
func stripOuter(b []byte) []byte {
	start := -1
	for i, c := range b {
		if c == '>' {
			start = i + 1
			break
		}
	}
	end := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '<' {
			end = i
			break
		}
	}
	if start < 0 || end < start {
		return nil
	}
	return b[start:end]
}

func (q *queryXMLFake) writeError(w http.ResponseWriter, err error) {
	ae, status := apiErrorOf(err)
	type errXML struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	out := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errXML   `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: q.xmlns, Error: errXML{Type: "Sender", Code: ae.Type, Message: ae.Message}, RequestID: "fake-request"}
	data, _ := xml.Marshal(out)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), data...))
}

// Target is one registered target and its health.
type Target struct {
	ID     string
	Port   int32
	State  string // healthy, unhealthy, initial, draining, unused, unavailable
	Reason string // Target.FailedHealthChecks, ...
	Detail string
}

// ELBv2 is an Elastic Load Balancing v2 fake (awsQuery): DescribeTargetHealth
// over target groups set with SetTargets.
type ELBv2 struct {
	*queryXMLFake

	mu     sync.Mutex
	groups map[string][]Target
}

// NewELBv2 returns an ELBv2 fake with no target groups.
func NewELBv2() *ELBv2 {
	f := &ELBv2{groups: map[string][]Target{}}
	f.queryXMLFake = &queryXMLFake{
		xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		ops:   map[string]func(url.Values) (any, error){"DescribeTargetHealth": f.describeTargetHealth},
	}
	return f
}

// SetTargets replaces a target group's targets (creating the group).
func (f *ELBv2) SetTargets(arn string, targets ...Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[arn] = append([]Target(nil), targets...)
}

func (f *ELBv2) describeTargetHealth(form url.Values) (any, error) {
	arn := form.Get("TargetGroupArn")
	if arn == "" {
		return nil, Errorf("ValidationError", "TargetGroupArn is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	targets, ok := f.groups[arn]
	if !ok {
		return nil, Errorf("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	type targetXML struct {
		ID   string `xml:"Id"`
		Port int32  `xml:"Port"`
	}
	type healthXML struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	}
	type member struct {
		Target          targetXML `xml:"Target"`
		HealthCheckPort string    `xml:"HealthCheckPort"`
		TargetHealth    healthXML `xml:"TargetHealth"`
	}
	out := struct {
		XMLName xml.Name `xml:"R"`
		Members []member `xml:"TargetHealthDescriptions>member"`
	}{}
	for _, t := range targets {
		out.Members = append(out.Members, member{
			Target:          targetXML{ID: t.ID, Port: t.Port},
			HealthCheckPort: "traffic-port",
			TargetHealth:    healthXML{State: t.State, Reason: t.Reason, Description: t.Detail},
		})
	}
	return out, nil
}
