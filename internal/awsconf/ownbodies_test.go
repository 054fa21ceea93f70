package awsconf

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// closeAware is a request body that fails once closed, as the SDK's
// released buffers effectively do.
type closeAware struct {
	r      *strings.Reader
	closed bool
}

func (c *closeAware) Read(p []byte) (int, error) {
	if c.closed {
		return 0, errors.New("read after close")
	}
	return c.r.Read(p)
}

func (c *closeAware) Close() error { c.closed = true; return nil }

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestOwnBodiesSurviveTheSDKClosingTheOriginal(t *testing.T) {
	orig := &closeAware{r: strings.NewReader("Action=DescribeStacks&Version=2010-05-15")}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", orig)
	c := OwnBodies(doFunc(func(r *http.Request) (*http.Response, error) {
		orig.Close() // the SDK lets go of its body while the transport still reads
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != "Action=DescribeStacks&Version=2010-05-15" || r.ContentLength != int64(len(got)) {
			t.Errorf("transport read %q, %v (length %d)", got, err, r.ContentLength)
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}))
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
}
