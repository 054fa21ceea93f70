package devstack

import (
	"net/http"

	"github.com/lowfare/lowfare/internal/wakepage"
)

// wakingRetryAfter is the Retry-After of the waking page on this machine,
// where a start takes a second or two (on AWS, about a minute: the
// controller says so with wakepage's default).
const wakingRetryAfter = 2

// writeWaking answers a request while the app is not awake: the same page
// the deployed service's ingress sends while it sleeps (internal/wakepage).
func writeWaking(w http.ResponseWriter, r *http.Request) {
	wakepage.Write(w, r, wakepage.Page{Kind: wakepage.Waking, RetryAfter: wakingRetryAfter})
}
