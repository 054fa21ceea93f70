//go:build !cgo

package sqlite3

import "errors"

// Open fails, as the real driver does when it is built without cgo.
func Open() error {
	return errors.New("Binary was compiled with 'CGO_ENABLED=0', go-sqlite3 requires cgo to work. This is a stub")
}
