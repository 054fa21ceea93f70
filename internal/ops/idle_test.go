package ops

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

func TestSleepState(t *testing.T) {
	idle := spec.Default()
	idle.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServePage}
	idleApp := spec.Default()
	idleApp.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServeApp}
	idleSched := spec.Default()
	idleSched.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServePage}
	idleSched.Service.Schedule = &spec.Schedule{Timezone: "UTC", Awake: "Mon-Fri 08:00-20:00"}
	sched := spec.Default()
	sched.Service.Schedule = idleSched.Service.Schedule
	since := "2026-12-01T10:00:00Z"
	now := time.Date(2026, 12, 1, 13, 5, 0, 0, time.UTC)
	tags := func(state, reason string) map[string]string {
		return map[string]string{tagSleep: state, tagSleepReason: reason, tagSleepSince: since}
	}
	for _, tc := range []struct {
		name             string
		s                *spec.Spec
		desired, running int32
		tags             map[string]string
		want             string
	}{
		{"idle asleep", idle, 0, 0, tags("asleep", "idle"), "asleep since 2026-12-01T10:00:00Z (3h 5m ago, idle); idle: the next request wakes it"},
		{"idle asleep by schedule", idleSched, 0, 0, tags("asleep", "schedule"), "asleep since 2026-12-01T10:00:00Z (3h 5m ago, schedule); idle: the next request wakes it (inside the awake windows; outside them it gets the closed page)"},
		{"idle waking", idle, 1, 0, tags("waking", "request"), "waking since 2026-12-01T10:00:00Z (3h 5m ago, request); idle: the ingress returns to the service within a minute of a task being healthy"},
		{"idle awake", idle, 1, 1, tags("awake", "request"), "awake since 2026-12-01T10:00:00Z (3h 5m ago, request); idle: sleeps after 15m without a request"},
		{"idle, tag says asleep but tasks run", idle, 1, 1, tags("asleep", "idle"), "waking (manual); idle: the ingress returns to the service within a minute of a task being healthy"},
		{"idle before the first sleep", idle, 1, 1, nil, "awake; idle: sleeps after 15m without a request"},
		{"serve app asleep", idleApp, 0, 0, tags("asleep", "idle"), "asleep since 2026-12-01T10:00:00Z (3h 5m ago, idle); idle: the app answers on Lambda; 465 requests a minute for 3 minutes wake it"},
		{"serve app woken by traffic", idleApp, 1, 0, tags("waking", "busy"), "waking since 2026-12-01T10:00:00Z (3h 5m ago, busy); idle: the ingress returns to the service within a minute of a task being healthy"},
		{"started by a deploy, seen by the reconcile", idleApp, 1, 1, tags("waking", "external"), "waking since 2026-12-01T10:00:00Z (3h 5m ago, external); idle: the ingress returns to the service within a minute of a task being healthy"},
		{"schedule asleep", sched, 0, 0, nil, "asleep (schedule or manual)"},
		{"plain asleep", spec.Default(), 0, 0, nil, "asleep (manual)"},
		{"plain starting", spec.Default(), 1, 0, nil, "waking"},
		{"plain awake", spec.Default(), 2, 1, nil, "awake"},
		{"tags without idle are ignored", spec.Default(), 1, 1, tags("asleep", "idle"), "awake"},
	} {
		if got := sleepState(tc.s, tc.desired, tc.running, tc.tags).Describe(now); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// fakeController stands in for the wake controller's Lambda Invoke
// endpoint: moto runs Lambda functions only in Docker
// (moto/awslambda/models.py LambdaFunction._invoke_lambda imports docker),
// which this machine has not; the controller's own logic is tested against
// moto in internal/stack (TestIdleControllerAgainstMoto).
type fakeController struct {
	mu       sync.Mutex
	payloads []map[string]string
	paths    []string
	fail     bool
}

func (f *fakeController) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p map[string]string
	_ = json.Unmarshal(body, &p)
	f.mu.Lock()
	f.payloads = append(f.payloads, p)
	f.paths = append(f.paths, r.URL.Path)
	f.mu.Unlock()
	if f.fail {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = io.WriteString(w, `{"errorMessage":"AccessDenied"}`)
		return
	}
	_, _ = io.WriteString(w, `{"state":"ok"}`)
}

func idleWorld(t *testing.T) (*world, *fakeController, *int) {
	w := newWorld(t)
	w.spec.Service.Idle = &spec.Idle{After: "15m"}
	ctl := &fakeController{}
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	pokes := new(int)
	var mu sync.Mutex
	app := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/healthz" {
			*pokes++
		}
		rw.WriteHeader(http.StatusServiceUnavailable) // the waking page
	}))
	t.Cleanup(app.Close)
	w.outputs[stack.OutputWakeFunction] = "lowfare-links-dev-wake"
	w.outputs[stack.OutputURL] = app.URL
	w.CloudFormation.PutStack(w.spec.StackName(), "UPDATE_COMPLETE", w.outputs)
	w.clients.Lambda = lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   srv.Client(),
	})
	return w, ctl, pokes
}

func TestIdleSleepAndWakeGoThroughTheController(t *testing.T) {
	w, ctl, pokes := idleWorld(t)
	res, err := Sleep(testCtx(t), w.clients, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Idle, "the next request wakes it") {
		t.Errorf("sleep says %q", res.Idle)
	}
	res, err = Wake(testCtx(t), w.clients, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Idle, "sleeps again after 15m without a request (lowfare sent one request") || *pokes != 1 {
		t.Errorf("wake says %q after %d requests to the app", res.Idle, *pokes)
	}
	if res.Set != (Capacity{Min: 1, Max: 2, Desired: 1}) {
		t.Errorf("wake set %+v", res.Set)
	}
	want := []map[string]string{{"lowfare": "sleep", "reason": "manual"}, {"lowfare": "wake", "reason": "manual"}}
	if len(ctl.payloads) != 2 || ctl.payloads[0]["lowfare"] != "sleep" || ctl.payloads[1]["lowfare"] != "wake" || ctl.payloads[1]["reason"] != "manual" {
		t.Errorf("controller got %v, want %v", ctl.payloads, want)
	}
	if !strings.Contains(ctl.paths[0], "/functions/lowfare-links-dev-wake/invocations") {
		t.Errorf("invoked %s", ctl.paths[0])
	}
	// Nothing else changed the counts: the controller is the one that does.
	if tg, _ := w.AutoScaling.Target("ecs", w.resourceID(), "ecs:service:DesiredCount"); tg.Min != 1 || tg.Max != 2 {
		t.Errorf("ops set the bounds itself: %+v", tg)
	}
}

func TestIdleControllerErrorIsReported(t *testing.T) {
	w, ctl, _ := idleWorld(t)
	ctl.fail = true
	_, err := Sleep(testCtx(t), w.clients, w.spec)
	if err == nil || !strings.Contains(err.Error(), "failed to sleep (Unhandled)") || !strings.Contains(err.Error(), "/aws/lambda/lowfare-links-dev-wake") {
		t.Errorf("err = %v", err)
	}
}
