//go:build !unix

package devstack

import "os/exec"

func ownGroup(*exec.Cmd) {}

// terminate stops the app; without POSIX signals it cannot ask first.
func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }
