module example.com/cgoapp

go 1.22

require github.com/mattn/go-sqlite3 v1.14.22

// A stand-in for the real driver, so the test needs no network: like it,
// one file that imports "C" and a stub for builds without cgo.
replace github.com/mattn/go-sqlite3 => ./third_party/go-sqlite3
