//go:build !unix

package devstack

// lockDataDir is a no-op where flock does not exist: two dev stacks on one
// data directory would overwrite each other's snapshot there.
func lockDataDir(string) (func(), error) { return func() {}, nil }
