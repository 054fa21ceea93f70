package main

import (
	"os/exec"
	"syscall"
)

// tieToAdapter makes the kernel kill the app when the adapter dies, however
// it dies (a crash, SIGKILL, an error exit), so an app never outlives its
// adapter holding the port. Go does not end the threads that start child
// processes, so the parent-death signal fires only when the adapter exits.
func tieToAdapter(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
