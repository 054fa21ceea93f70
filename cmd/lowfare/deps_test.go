package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSchemaSerdeSDKPackages keeps the AWS SDK service modules on the
// versions before schema-based (de)serialization (aws/aws-sdk-go-v2#3432).
// Those versions add generated "schemas" packages whose initialisation cost
// about 40 ms at every start of lowfare, even for `lowfare cost`, which
// makes no AWS call: more than the 50 ms the whole command may take. A
// dependency update that brings them back fails here; see
// docs/benchmarks.md (start-up) before accepting it.
func TestNoSchemaSerdeSDKPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/") && strings.HasSuffix(pkg, "/schemas") {
			t.Errorf("lowfare links %s: pin that service module to its last version before schema-based serde", pkg)
		}
	}
}
