package awsfake

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Alarm is one fake CloudWatch metric alarm.
type Alarm struct {
	Name    string
	State   string // OK, ALARM, INSUFFICIENT_DATA
	Reason  string
	Updated time.Time
}

// CloudWatch is a CloudWatch fake for DescribeAlarms. The SDK in go.mod
// (service/cloudwatch v1.75) speaks Smithy RPC v2 CBOR to CloudWatch, not
// the older awsQuery XML: POST /service/GraniteServiceVersion20100801/
// operation/<Op> with a CBOR body, so this fake answers exactly that.
type CloudWatch struct {
	mu     sync.Mutex
	alarms []Alarm
	calls  []string
}

// NewCloudWatch returns a CloudWatch fake with no alarms.
func NewCloudWatch() *CloudWatch { return &CloudWatch{} }

// AddAlarm stores an alarm.
func (f *CloudWatch) AddAlarm(a Alarm) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms = append(f.alarms, a)
}

// Calls returns the operations received, in order.
func (f *CloudWatch) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

const cloudWatchPathPrefix = "/service/GraniteServiceVersion20100801/operation/"

// ServeHTTP implements http.Handler.
func (f *CloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, cloudWatchPathPrefix)
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	if !ok || r.Method != http.MethodPost || !strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") {
		writeCBORError(w, http.StatusNotFound, "UnknownOperationException", "expected POST "+cloudWatchPathPrefix+"<Operation> with Smithy-Protocol: rpc-v2-cbor")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeCBORError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	in := cbor.Map{}
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		if err != nil {
			writeCBORError(w, http.StatusBadRequest, "SerializationException", "request body is not CBOR: "+err.Error())
			return
		}
		m, ok := v.(cbor.Map)
		if !ok {
			writeCBORError(w, http.StatusBadRequest, "SerializationException", "request body is not a CBOR map")
			return
		}
		in = m
	}
	switch op {
	case "DescribeAlarms":
		f.describeAlarms(w, in)
	default:
		writeCBORError(w, http.StatusBadRequest, "UnknownOperationException", "operation "+op+" is not implemented by this fake")
	}
}

func cborString(m cbor.Map, key string) string {
	if s, ok := m[key].(cbor.String); ok {
		return string(s)
	}
	return ""
}

func (f *CloudWatch) describeAlarms(w http.ResponseWriter, in cbor.Map) {
	prefix := cborString(in, "AlarmNamePrefix")
	state := cborString(in, "StateValue")
	switch state {
	case "", "OK", "ALARM", "INSUFFICIENT_DATA":
	default:
		writeCBORError(w, http.StatusBadRequest, "InvalidParameterValue", "StateValue "+state+" is not OK, ALARM or INSUFFICIENT_DATA")
		return
	}
	f.mu.Lock()
	alarms := append([]Alarm(nil), f.alarms...)
	f.mu.Unlock()
	sort.Slice(alarms, func(i, j int) bool { return alarms[i].Name < alarms[j].Name })
	list := cbor.List{}
	for _, a := range alarms {
		if !strings.HasPrefix(a.Name, prefix) || (state != "" && a.State != state) {
			continue
		}
		list = append(list, cbor.Map{
			"AlarmName":   cbor.String(a.Name),
			"AlarmArn":    cbor.String("arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + a.Name),
			"StateValue":  cbor.String(a.State),
			"StateReason": cbor.String(a.Reason),
			// Timestamps are tag 1 (epoch seconds) in RPC v2 CBOR.
			"StateUpdatedTimestamp": &cbor.Tag{ID: 1, Value: cbor.Float64(float64(a.Updated.UnixMilli()) / 1000)},
		})
	}
	out := cbor.Map{"MetricAlarms": list, "CompositeAlarms": cbor.List{}}
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(out))
}

func writeCBORError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(msg)}))
}
