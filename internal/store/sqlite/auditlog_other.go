//go:build !linux

package sqlite

import "os"

// fdatasync is fsync where fdatasync is not available.
func fdatasync(f *os.File) error { return f.Sync() }

// openSegment opens an audit log segment for writing.
func openSegment(path string, _ bool) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	return f, false, err
}

// lockDir: no inter-process lock on this platform; the process that opens
// the log owns it. Run one rampart per data directory.
func lockDir(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	return f, true, err
}
