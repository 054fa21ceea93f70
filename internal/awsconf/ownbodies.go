package awsconf

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// OwnBodies wraps an SDK HTTP client so that each request body is copied
// into memory the transport alone owns.
//
// Why: the SDK releases its request body as soon as the response headers
// arrive, while net/http's write loop may still read it to see EOF; the
// failed read makes the transport close the connection under the response
// body, and the call fails with "deserialization failed ... use of closed
// network connection" on a 200 (aws/aws-sdk-go-v2#1825, #2737). Reproduced
// here against the local CloudFormation fake in about one run in ten.
// Request bodies of the calls lowfare makes are small (a template is at
// most 51,200 bytes), so the copy costs nothing that matters.
func OwnBodies(c aws.HTTPClient) aws.HTTPClient {
	return ownBodies{c}
}

type ownBodies struct{ next aws.HTTPClient }

func (o ownBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.next.Do(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r2.ContentLength = int64(len(data))
	return o.next.Do(r2)
}
