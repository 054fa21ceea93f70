package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// specWarnings are the warnings that need more than the spec to judge (the
// files next to it) or that the stack rules do not own: the image package,
// placeholder addresses. plan, synth and deploy show them with the stack's.
func specWarnings(file string, s *spec.Spec) []stack.Warning {
	var out []stack.Warning
	if msg := imageProblem(file, s); msg != "" {
		out = append(out, stack.Warning{Part: stack.PartService, Message: msg})
	} else if msg := literalPortProblem(file, s); msg != "" {
		out = append(out, stack.Warning{Part: stack.PartService, Message: msg})
	}
	for _, list := range []struct {
		part, path, what string
		emails           []string
	}{
		{stack.PartBudget, "budget.emails", "budget alerts", s.Budget.Emails},
		{stack.PartObservability, "alarms.emails", "alarm notifications", s.Alarms.Emails},
	} {
		for _, e := range list.emails {
			if placeholderEmail(e) {
				out = append(out, stack.Warning{Part: list.part,
					Message: fmt.Sprintf("%s: %s is a placeholder address (reserved domains take no mail), so the %s reach nobody; put your own address in %s", list.path, e, list.what, file)})
			}
		}
	}
	return out
}

// placeholderEmail reports an address at a domain reserved for examples
// (RFC 2606: example.com/.net/.org, .example, .test, .invalid), which no
// one receives, or a first-run placeholder such as you@... .
func placeholderEmail(e string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(e), "@")
	if !ok {
		return false
	}
	for _, d := range []string{"example.com", "example.net", "example.org"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	for _, tld := range []string{".example", ".test", ".invalid", ".localhost"} {
		if strings.HasSuffix(domain, tld) {
			return true
		}
	}
	return false
}

// imageProblem says what is wrong with service.image when it is a local path
// that lowfare could not build: not a directory, no Go files, not package
// main, not inside a Go module (gosrc.CheckMain), or needing cgo
// (cgoProblem); for an image on disk, what archiveProblem finds. "" when it
// is buildable or pushable, or an image reference. Paths are
// relative to the spec file's directory, as the image build resolves them.
func imageProblem(file string, s *spec.Spec) string {
	if s.Service.Archive() {
		return archiveProblem(file, s)
	}
	if !s.Service.LocalPackage() {
		return ""
	}
	img := s.Service.Image
	p := imageCheck(file, s)
	if p == nil {
		return cgoProblem(file, s)
	}
	todo := "point service.image at the directory of your Go main package (such as ./cmd/server), or at an image reference such as public.ecr.aws/docker/library/nginx:latest"
	switch p.Reason {
	case gosrc.Missing, gosrc.NotDir, gosrc.NoGoFiles, gosrc.NotMain:
		return fmt.Sprintf("service.image %s: %v; %s", img, p, todo)
	}
	return fmt.Sprintf("service.image %s: %v", img, p) // NoModule says what to run; Unreadable has nothing to point at
}

// literalPortProblem says so when service.image's main package listens on
// a literal port and never reads $PORT: the source guess lowfare init makes
// (gosrc.Main.Port). The app contract gives the port in $PORT; the ingress,
// the health check and lowfare dev send requests there. "" when the source
// reads $PORT, has no literal listen address, or is not a local package.
func literalPortProblem(file string, s *spec.Spec) string {
	if !s.Service.LocalPackage() {
		return ""
	}
	m, err := gosrc.ParseMain(imageDir(file, s))
	if err != nil || m == nil {
		return ""
	}
	p, ok := m.Port()
	if !ok || p.ReadsEnv || p.EnvDefault {
		return ""
	}
	at := filepath.ToSlash(filepath.Join(s.Service.Image, p.At))
	what := fmt.Sprintf("service.image %s: %s listens on the literal %q and never reads $PORT (no os.Getenv(\"PORT\") or os.LookupEnv in its main package)", s.Service.Image, at, p.Literal)
	var why string
	if p.Number != s.Service.Port {
		why = fmt.Sprintf("lowfare runs it with PORT=%d and the ingress and its health check send requests to port %d, where nothing answers", s.Service.Port, s.Service.Port)
	} else {
		why = fmt.Sprintf("it works only while service.port stays %d, and lowfare dev, which gives the app a port of its own in $PORT, cannot reach it", p.Number)
	}
	return fmt.Sprintf("%s: %s; listen on $PORT instead, such as http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)", what, why)
}

// imageDir is service.image, a local package, resolved from the spec
// file's directory as the image build does.
func imageDir(file string, s *spec.Spec) string {
	dir := s.Service.Image
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(file), dir)
	}
	return dir
}

// imageCheck is what gosrc.CheckMain finds wrong with service.image, a
// local package resolved from the spec file's directory, or nil.
func imageCheck(file string, s *spec.Spec) *gosrc.Problem {
	var p *gosrc.Problem
	if !errors.As(gosrc.CheckMain(imageDir(file, s)), &p) {
		return nil
	}
	return p
}

// imageError is imageProblem as the bad input it is for every command that
// builds, runs or commits to service.image (plan --check, synth, image
// build, deploy, dev): exit 2, one wording, the spec file first. Plain plan
// shows the same text as a warning.
func imageError(file string, s *spec.Spec) error {
	if msg := imageProblem(file, s); msg != "" {
		return usageErrf("%s: %s", file, msg)
	}
	return nil
}

// budgetWarning is the over-budget verdict of the plan's estimate as a
// warning, so that "Warnings: none" never sits above "OVER BUDGET".
func budgetWarning(r *cost.Report) []stack.Warning {
	if r == nil || r.FitsBudget() {
		return nil
	}
	msg := fmt.Sprintf("the estimate, $%.2f a month without free tier, is over budget.monthly_usd $%.2f (%.0f%% of it)",
		r.TotalUSD, r.BudgetUSD, 100*r.BudgetShare())
	if best, ok := r.CheapestFit(); ok {
		msg += fmt.Sprintf("; cheapest shape that fits: %s at $%.2f (lowfare cost --compare)", best.Shape.Name(), best.TotalUSD)
	}
	return []stack.Warning{{Part: stack.PartBudget, Message: msg}}
}
