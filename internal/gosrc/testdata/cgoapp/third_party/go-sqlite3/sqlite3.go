//go:build cgo

// Package sqlite3 stands in for github.com/mattn/go-sqlite3: C code.
package sqlite3

/*
static int sqlite3_ok(void) { return 0; }
*/
import "C"

// Open opens the database.
func Open() error { C.sqlite3_ok(); return nil }
