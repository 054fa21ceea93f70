package ci

import (
	"flag"
	"maps"
	"slices"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

var update = flag.Bool("update", false, "rewrite handlers.json and the golden files")

// matrix is one spec of every shape lowfare builds: each profile, each
// ingress, idle sleep, a schedule, a domain, an image reference; their
// templates together hold every resource type lowfare can emit.
var matrix = map[string]string{
	"free-alb":        "app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: ./cmd/links, port: 8080, secrets: [ADMIN_TOKEN]}\ningress: {kind: alb}\n",
	"free-apigw-idle": "app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: ./cmd/links, port: 8080, idle: {after: 15m}, schedule: {timezone: UTC, awake: \"Mon-Fri 08:00-20:00\"}}\ningress: {kind: apigw, domain: a.example.com, hosted_zone_id: Z0000000000000000000}\n",
	"free-alb-idle":   "app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: ./cmd/links, port: 8080, idle: {after: 15m}}\ningress: {kind: alb, domain: a.example.com, hosted_zone_id: Z0000000000000000000}\n",
	"free-image-ref":  "app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/other:v1, port: 8080, idle: {after: 15m}}\ningress: {kind: apigw}\n",
	"serverless-url":  "app: links\nenv: dev\nregion: us-east-1\nprofile: serverless\nservice: {image: ./cmd/links, port: 8080}\n",
	"serverless-api":  "app: links\nenv: dev\nregion: us-east-1\nprofile: serverless\nservice: {image: ./cmd/links, port: 8080}\ningress: {kind: apigw}\n",
	"ha-alb":          "app: links\nenv: prod\nregion: eu-west-1\nprofile: ha\nservice: {image: ./cmd/links, port: 8080}\ningress: {kind: alb}\n",
	"free-database":   "app: links\nenv: dev\nregion: us-east-1\nprofile: free\nservice: {image: ./cmd/links, port: 8080, idle: {after: 15m}}\ningress: {kind: apigw}\ndatabase: {engine: postgres}\n",
	"ha-database":     "app: links\nenv: prod\nregion: eu-west-1\nprofile: ha\nservice: {image: ./cmd/links, port: 8080}\ningress: {kind: alb}\ndatabase: {engine: postgres}\n",
}

func mustSpec(t testing.TB, yaml string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("lowfare.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allTypes is every resource type in the templates of the matrix, in the
// spec's shape and as its preview.
func allTypes(t testing.TB) []string {
	t.Helper()
	set := map[string]bool{}
	for _, y := range matrix {
		for _, s := range []*spec.Spec{mustSpec(t, y), previewOf(t, mustSpec(t, y), "pr-1")} {
			res, err := stack.Build(s)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(set, typesOf(res.Main.Resources))
			if res.Bootstrap != nil { // an image reference has none
				maps.Copy(set, typesOf(res.Bootstrap.Resources))
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func previewOf(t testing.TB, s *spec.Spec, env string) *spec.Spec {
	t.Helper()
	p, err := PreviewSpec(s, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
