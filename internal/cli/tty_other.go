//go:build !linux

package cli

// isTTY falls back to the character-device test where the terminal ioctl
// is not wired up here.
func isTTY(stream any) bool { return isTerminal(stream) }
