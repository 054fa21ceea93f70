package devstack

import (
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestDevEndpointAnswersLikeDynamoDB checks that the endpoint lowfare dev
// gives the app is minidyn behind ddbfront: its answers carry
// X-Amz-Crc32, which minidyn alone does not send (ddbfront's tests cover
// the rest).
func TestDevEndpointAnswersLikeDynamoDB(t *testing.T) {
	ep, stop, err := startMinidyn()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	if got := resp.Header.Get("X-Amz-Crc32"); got != want {
		t.Errorf("X-Amz-Crc32 = %q, want %q (CRC32 of %s)", got, want, body)
	}
}
