package deploy

import (
	"strings"
	"testing"
)

// CreateParameters ride only on the change set that creates the stack: the
// main stack's first task count must not come back on later deploys, or
// every update would reset the running count.
func TestCreateParametersOnlyOnCreate(t *testing.T) {
	e := newEnv(t)
	s := stackV1("repo@sha256:1")
	// The template declares the parameter with a Default, as the main
	// template does: CloudFormation refuses a value for an undeclared one.
	s.Body = []byte(strings.Replace(tplV1, `"Parameters": {`, `"Parameters": {"InitialDesiredCount": {"Type": "Number", "Default": "1"}, `, 1))
	s.CreateParameters = map[string]string{"InitialDesiredCount": "2"}
	if _, err := e.d.Deploy(testCtx(t), s); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.StackParameters(stackName); got["InitialDesiredCount"] != "2" || got["ImageUri"] != "repo@sha256:1" {
		t.Fatalf("after the create, parameters %v; want InitialDesiredCount 2 and the image", got)
	}
	s.Parameters = map[string]string{"ImageUri": "repo@sha256:2"}
	if _, err := e.d.Deploy(testCtx(t), s); err != nil {
		t.Fatal(err)
	}
	got := e.fake.StackParameters(stackName)
	if _, has := got["InitialDesiredCount"]; has || got["ImageUri"] != "repo@sha256:2" {
		t.Errorf("after an update, parameters %v; want the new image and no InitialDesiredCount", got)
	}
	if s.Parameters["InitialDesiredCount"] != "" {
		t.Errorf("Deploy changed the caller's Parameters: %v", s.Parameters)
	}
}
