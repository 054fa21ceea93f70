package spec

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRegionsMatchTheSDK checks lowfare's region list against the endpoint
// metadata of the aws-sdk-go-v2 in go.mod, so an SDK upgrade that adds a
// region fails here until the list is updated.
func TestRegionsMatchTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	if err != nil {
		t.Skipf("go list -m github.com/aws/aws-sdk-go-v2: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "endpoints", "awsrulesfn", "partitions.json"))
	if err != nil {
		t.Fatalf("the SDK's partition metadata moved: %v", err)
	}
	var doc struct {
		Partitions []struct {
			Regions map[string]any `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var sdk []string
	for _, p := range doc.Partitions {
		for r := range p.Regions {
			if !strings.HasSuffix(r, "-global") {
				sdk = append(sdk, r)
			}
		}
	}
	slices.Sort(sdk)
	ours := Regions()
	slices.Sort(ours)
	if !slices.Equal(sdk, ours) {
		t.Errorf("awsRegions in validate.go differ from the SDK's partitions.json:\n ours %v\n sdk  %v", ours, sdk)
	}
}

func TestUnknownRegionIsASpecErrorWithAPosition(t *testing.T) {
	for _, tc := range []struct{ region, want string }{
		{"us-east-9", `lowfare.yaml:3:9 region: "us-east-9" is not an AWS region; did you mean us-east-1?`},
		{"mars-1", `lowfare.yaml:3:9 region: "mars-1" is not an AWS region name`},
	} {
		_, err := Parse("lowfare.yaml", []byte("app: links\nenv: dev\nregion: "+tc.region+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("region %s: got %v, want %q", tc.region, err, tc.want)
		}
	}
	for _, ok := range []string{"eu-central-1", "us-gov-west-1", "ap-southeast-5"} {
		if _, err := Parse("lowfare.yaml", []byte("app: links\nenv: dev\nregion: "+ok+"\n")); err != nil && strings.Contains(err.Error(), "region") {
			t.Errorf("region %s refused: %v", ok, err)
		}
	}
}
