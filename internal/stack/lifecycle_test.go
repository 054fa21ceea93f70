package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// ecrImage is one image in a repository, for the lifecycle evaluation.
type ecrImage struct {
	digest string
	tags   []string
	pushed time.Time
}

type lifecycleRule struct {
	RulePriority int `json:"rulePriority"`
	Selection    struct {
		TagStatus     string   `json:"tagStatus"`
		TagPrefixList []string `json:"tagPrefixList"`
		CountType     string   `json:"countType"`
		CountUnit     string   `json:"countUnit"`
		CountNumber   int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// matches reports whether img meets the rule's tagging requirements.
func (r lifecycleRule) matches(img ecrImage) bool {
	switch r.Selection.TagStatus {
	case "any":
		return true
	case "untagged":
		return len(img.tags) == 0
	case "tagged":
		for _, prefix := range r.Selection.TagPrefixList { // every prefix must be on some tag
			if !slices.ContainsFunc(img.tags, func(tag string) bool { return strings.HasPrefix(tag, prefix) }) {
				return false
			}
		}
		return len(img.tags) > 0
	}
	return false
}

// expired is our reading of the ECR lifecycle evaluation
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html):
// rules run from the lowest rulePriority; imageCountMoreThan keeps the
// newest countNumber images the rule's tagging selects (by push time) and
// sinceImagePushed expires those older than countNumber days; an image that
// matches the tagging requirements of a higher-priority rule is never
// expired by a lower one, though it still counts towards the lower rule.
func expired(t *testing.T, policy string, images []ecrImage, now time.Time) []string {
	t.Helper()
	var p struct {
		Rules []lifecycleRule `json:"rules"`
	}
	if err := json.Unmarshal([]byte(policy), &p); err != nil {
		t.Fatal(err)
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].RulePriority < p.Rules[j].RulePriority })
	gone := map[string]bool{}
	for i, r := range p.Rules {
		if r.Selection.TagStatus == "any" && i != len(p.Rules)-1 {
			t.Fatalf("rule %d: tagStatus any must have the highest rulePriority", r.RulePriority)
		}
		var selected []ecrImage
		for _, img := range images {
			if r.matches(img) {
				selected = append(selected, img)
			}
		}
		sort.Slice(selected, func(a, b int) bool { return selected[a].pushed.After(selected[b].pushed) })
		for n, img := range selected {
			var expire bool
			switch r.Selection.CountType {
			case "imageCountMoreThan":
				expire = n >= r.Selection.CountNumber
			case "sinceImagePushed":
				expire = now.Sub(img.pushed) > time.Duration(r.Selection.CountNumber)*24*time.Hour
			default:
				t.Fatalf("rule %d: countType %q", r.RulePriority, r.Selection.CountType)
			}
			protected := slices.ContainsFunc(p.Rules[:i], func(h lifecycleRule) bool { return h.matches(img) })
			if expire && !protected && r.Action.Type == "expire" {
				gone[img.digest] = true
			}
		}
	}
	var out []string
	for d := range gone {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// A deploy that succeeded moves LiveImageTag to its image; then
// fifteen deploys fail after pushing their images (and one re-push leaves
// an untagged image). The image the stack still runs must survive; the
// untagged one and the superseded ones beyond keepImages expire. The old
// policy ("keep the last 10", any) expired the running image.
func TestLifecycleKeepsTheRunningImage(t *testing.T) {
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	images := []ecrImage{
		{digest: "sha256:old", tags: []string{"0a0a0a0a0a0a"}, pushed: start},
		{digest: "sha256:running", tags: []string{"1b1b1b1b1b1b", LiveImageTag}, pushed: start.Add(time.Hour)},
		{digest: "sha256:replaced", tags: nil, pushed: start.Add(2 * time.Hour)}, // its tag was re-pushed
	}
	for i := range 15 {
		images = append(images, ecrImage{digest: fmt.Sprintf("sha256:failed%02d", i), tags: []string{fmt.Sprintf("f%011d", i)}, pushed: start.Add(time.Duration(3+i) * time.Hour)})
	}
	now := start.Add(72 * time.Hour)

	got := expired(t, lifecyclePolicy(), images, now)
	if slices.Contains(got, "sha256:running") {
		t.Errorf("the running image expires: %v", got)
	}
	if !slices.Contains(got, "sha256:replaced") || !slices.Contains(got, "sha256:old") {
		t.Errorf("untagged or superseded images stay: expired %v", got)
	}
	kept := len(images) - len(got)
	if kept != keepImages+1 {
		t.Errorf("%d images kept, want the %d newest and the running one (expired %v)", kept, keepImages, got)
	}
	for i := range 15 - keepImages {
		if d := fmt.Sprintf("sha256:failed%02d", i); !slices.Contains(got, d) {
			t.Errorf("superseded %s stays", d)
		}
	}

	old := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`
	if !slices.Contains(expired(t, old, images, now), "sha256:running") {
		t.Error("the evaluation does not reproduce the old policy expiring the running image")
	}

	// The policy is what the bootstrap template carries.
	g := generic(t, build(t, variantSpecs()[0].spec).Bootstrap)
	repo := resourcesOfType(g, "AWS::ECR::Repository")["Repository"]
	if text := repo["LifecyclePolicy"].(map[string]any)["LifecyclePolicyText"]; text != lifecyclePolicy() {
		t.Errorf("template lifecycle policy %v", text)
	}
}
