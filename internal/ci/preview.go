package ci

import (
	"github.com/lowfare/lowfare/internal/spec"
)

// Environment returns s in environment env (when not empty) and, with
// preview, in its preview shape (Preview), checked and defaulted again as
// the loader would, through the YAML it would be written as (which loads
// back equal: spec's round-trip tests). name is what problems are reported
// against. s itself is changed.
func Environment(s *spec.Spec, env string, preview bool, name string) (*spec.Spec, error) {
	if env != "" {
		s.Env = env
	}
	if preview {
		Preview(s)
	}
	return spec.Parse(name, s.CommentedYAML())
}

// PreviewSpec is a copy of s as the preview environment env.
func PreviewSpec(s *spec.Spec, env string) (*spec.Spec, error) {
	c, err := spec.Parse("preview", s.CommentedYAML())
	if err != nil {
		return nil, err
	}
	return Environment(c, env, true, "preview "+env)
}

// PreviewIdleAfter is how long a preview environment waits without a
// request before it sleeps: the shortest the spec allows, since a preview
// is looked at now and then and should cost nothing in between.
const PreviewIdleAfter = "5m"

// Preview turns s into the preview environment of the same app: the same
// image, port, size, secrets and table schema, in the cheapest shape the
// spec allows, so that a pull request's environment costs cents a month:
//   - profile ha becomes free (a preview needs no second task, and ha's
//     deletion protection would stop 'destroy --delete-data' when the pull
//     request closes); its database pauses like free's;
//   - an ECS service goes behind an HTTP API (no hourly load balancer) and
//     sleeps after PreviewIdleAfter without a request, with one task at
//     most and no schedule (idle sleep replaces it);
//   - no custom domain or certificate: the preview answers on the URL AWS
//     gives it, and the main environment keeps its name;
//   - an on-demand table: the account's 25 free provisioned units are
//     shared by every table, and a preview has next to no traffic;
//   - no point-in-time recovery;
//   - the workload of a pull request under review, not of production:
//     PreviewRequests requests in PreviewActiveHours a month, so that
//     'lowfare cost --preview' prices what a preview costs.
//
// The caller sets the environment name (--env) and validates the result as
// the loader would.
func Preview(s *spec.Spec) {
	if s.Profile == spec.ProfileHA {
		s.Profile = spec.ProfileFree
		if s.Database != nil && s.Database.PauseAfter == "" {
			// ha's database never pauses; a preview's does, like free's.
			s.Database.PauseAfter = spec.DurationText(spec.PauseDefault)
		}
	}
	if s.ECS() {
		s.Ingress.Kind = spec.IngressAPIGW
		serve := spec.ServePage
		if s.Service.LocalPackage() && !s.HasDatabase() {
			// With a database the app cannot answer from Lambda (no NAT):
			// the spec refuses serve: app there.
			serve = spec.ServeApp
		}
		s.Service.Idle = &spec.Idle{After: PreviewIdleAfter, Serve: serve}
		s.Service.Schedule = nil
		s.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 1}
	}
	s.Ingress.Domain, s.Ingress.HostedZoneID, s.Ingress.CertificateARN = "", "", ""
	s.Table.Billing = spec.BillingOnDemand
	s.Table.Read, s.Table.Write = 0, 0
	s.Table.PITR = false
	s.Workload.RequestsPerMonth = PreviewRequests
	s.Workload.ActiveHours = PreviewActiveHours
}

// The workload a preview is priced at: a pull request is opened a few
// times by its reviewers, not served to users.
const (
	PreviewRequests    = 10_000
	PreviewActiveHours = 10.0
)
