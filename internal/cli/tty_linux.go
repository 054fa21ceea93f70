package cli

import (
	"os"
	"syscall"
	"unsafe"
)

// isTTY reports whether stream is a terminal: a character device that
// answers the terminal ioctl. /dev/null is a character device too, and is
// not one (isTerminal alone would take it for one).
func isTTY(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TCGETS), uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
