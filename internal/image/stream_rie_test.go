//go:build linux

package image

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lowfare/lowfare/internal/stack"
)

// TestStreamingAcceptedByRIE: a serverless image told that its function
// URL streams (the stack's LOWFARE_INVOKE_MODE) answers a function URL
// event with a streamed HTTP integration response, and AWS's Runtime
// Interface Emulator takes it: the mode header, the chunked post and the
// state transitions are what its Runtime API code accepts (it refuses any
// other mode with InvalidFunctionResponseMode). The RIE gives the caller
// the whole stream at the end (it reads the response before writing it),
// so that the body arrives as the app writes it, and a mid-stream error's
// trailers, are tested against the Runtime API double in
// internal/image/adapter (stream_test.go).
func TestStreamingAcceptedByRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds an image and the Lambda Runtime Interface Emulator")
	}
	b := buildApp(t, webappDir, ".", true)
	url, _ := underRIE(t, unpack(t, b.Image), stack.InvokeModeEnv+"="+stack.InvokeModeStream)
	raw := invokeRaw(t, url, functionURLEvent("GET", "/binary", "", nil, nil, nil))
	head, body, ok := bytes.Cut(raw, make([]byte, 8))
	var prelude struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
	}
	if !ok || json.Unmarshal(head, &prelude) != nil {
		t.Fatalf("not a prelude, eight NULs and a body: %q", raw)
	}
	if prelude.StatusCode != 200 || prelude.Headers["Content-Type"] != "application/octet-stream" {
		t.Errorf("prelude %s", head)
	}
	if !bytes.Equal(body, bytes256()) {
		t.Errorf("body %q, want bytes 0..255 as they are (no base64)", body)
	}
}
