// Package store opens the app's database.
package store

import sqlite3 "github.com/mattn/go-sqlite3"

// Open opens the database.
func Open() error { return sqlite3.Open() }
