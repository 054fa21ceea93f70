// Package atomicfile replaces a file so that a reader, or a crash, sees the
// old file or the new one, never half of one: the new version is written
// to a temporary file beside it, synced, and renamed over it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// File is the new version of a file while it is written. Commit puts it in
// place; Abort drops it. Calling Abort after Commit does nothing, so
// `defer f.Abort()` is the usual way to clean up on error paths.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a new version of path with permissions perm.
func Create(path string, perm os.FileMode) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs what was written, renames it over the file and syncs the
// directory, so the rename itself survives a crash. After an error the
// temporary file is gone and the old file is untouched.
func (f *File) Commit() error {
	if f.done {
		return os.ErrClosed
	}
	f.done = true
	tmp := f.Name()
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Abort drops the new version; the file keeps its old content.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile replaces path with data, as os.WriteFile would but atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}
