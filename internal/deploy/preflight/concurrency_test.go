package preflight

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
)

// The fake Lambda holds the account's limit as AWS reports it; a
// reservation that would leave fewer than 100 unreserved is refused before
// CloudFormation tries it, and concurrency: 0 asks nothing.
func TestCheckConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name              string
		profile           string
		concurrency       int
		limit, unreserved int
		problem, note     string // a substring of the one problem or note; "" for none
	}{
		{"default account", spec.ProfileServerless, 10, 1000, 1000, "", ""},
		{"new account", spec.ProfileServerless, 10, 10, 10, "limit in us-east-1 is 10, and Lambda keeps 100 of it unreserved, so it can reserve at most 0", ""},
		{"exactly fits", spec.ProfileServerless, 10, 110, 110, "", ""},
		{"one over", spec.ProfileServerless, 11, 110, 110, "can reserve at most 10", ""},
		{"others reserved", spec.ProfileServerless, 10, 1000, 105, "", "only 105 of the account's Lambda concurrency is unreserved"},
		{"no reservation", spec.ProfileServerless, 0, 10, 10, "", ""},
		{"fargate", spec.ProfileFree, 10, 10, 10, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &awsfake.Lambda{ConcurrencyLimit: tc.limit, Unreserved: tc.unreserved}
			c := awsconf.NewClients(awsfake.Config(t, fake))
			s := spec.Default()
			s.Profile, s.Service.Concurrency = tc.profile, tc.concurrency
			var problems, notes []string
			collect := func(to *[]string) func(string, ...any) {
				return func(format string, args ...any) { *to = append(*to, fmt.Sprintf(format, args...)) }
			}
			checkConcurrency(testCtx(t), c, s, collect(&problems), collect(&notes))
			for _, want := range []struct {
				kind string
				got  []string
				want string
			}{{"problems", problems, tc.problem}, {"notes", notes, tc.note}} {
				switch {
				case want.want == "" && len(want.got) > 0:
					t.Errorf("%s %q; want none", want.kind, want.got)
				case want.want != "" && (len(want.got) != 1 || !strings.Contains(want.got[0], want.want)):
					t.Errorf("%s %q; want one containing %q", want.kind, want.got, want.want)
				}
			}
		})
	}
}
