//go:build unix

package devstack

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the app in its own process group: Ctrl-C in the terminal
// reaches lowfare dev, which then stops the app gracefully (SIGTERM, as
// ECS does) instead of both getting SIGINT at once.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminate asks the app to stop, as ECS does before its stop timeout.
func terminate(cmd *exec.Cmd) error { return cmd.Process.Signal(syscall.SIGTERM) }
