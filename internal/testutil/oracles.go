package testutil

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The independent oracles that ship with this kind of machine (moto and
// cfn-lint, both Python). A developer without them gets a skip; CI sets
// LOWFARE_REQUIRE_MOTO=1 and LOWFARE_REQUIRE_CFNLINT=1 so that a missing
// oracle fails the run instead of passing while checking nothing.
const (
	envRequireMoto    = "LOWFARE_REQUIRE_MOTO"
	envRequireCfnLint = "LOWFARE_REQUIRE_CFNLINT"
)

// Tool returns the path of an oracle's executable, or skips the test (fails
// it when requireEnv is "1").
func Tool(t testing.TB, name, requireEnv string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but not on PATH: %v", name, requireEnv, err)
	}
	t.Skipf("%s not on PATH (set %s=1 to make this a failure)", name, requireEnv)
	return ""
}

// CfnLint returns the path of cfn-lint (AWS's CloudFormation linter).
func CfnLint(t testing.TB) string { return Tool(t, "cfn-lint", envRequireCfnLint) }

// Moto starts a private moto_server (an AWS emulator nobody here wrote) on a
// free loopback port for this test and returns its endpoint URL, such as
// http://127.0.0.1:41234. The server is stopped when the test ends. Each
// call gets its own server, so tests never share emulated state; a test
// that wants several subtests on one account calls it once and passes the
// URL down. Point SDK clients at it with any static credentials.
func Moto(t testing.TB) string {
	t.Helper()
	return MotoWithEnv(t)
}

// MotoWithEnv is Moto with extra environment variables for moto_server,
// such as INITIAL_NO_AUTH_ACTION_COUNT=3 (moto then authenticates and
// authorizes every request after the first three against its own IAM).
func MotoWithEnv(t testing.TB, env ...string) string {
	t.Helper()
	bin := Tool(t, "moto_server", envRequireMoto)
	port, err := PickPort()
	if err != nil {
		t.Fatalf("moto: no free port: %v", err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	out := &Buffer{}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("moto: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	// moto imports every service on start: a few seconds on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/moto-api/data.json", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-exited:
			t.Fatalf("moto_server exited before answering:\n%s", out.String())
		case <-ctx.Done():
			t.Fatalf("moto_server did not answer within 60 s:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
