// The audit log's system calls on Linux: fdatasync, O_DIRECT, flock.

package sqlite

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (and the metadata needed to read it back).
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// openSegment opens an audit log segment for writing, with O_DIRECT and
// O_DSYNC when the file system supports O_DIRECT (tmpfs, for one, does
// not): each write is then durable when it returns — its data and the
// metadata needed to read it back, as after fdatasync — in one system call
// instead of two.
func openSegment(path string, tryDirect bool) (f *os.File, direct bool, err error) {
	if tryDirect {
		if f, err = os.OpenFile(path, os.O_RDWR|syscall.O_DIRECT|syscall.O_DSYNC, 0); err == nil {
			return f, true, nil
		}
	}
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	return f, false, err
}

// lockDir takes an exclusive flock on the file at path (created if
// needed) without waiting: owner is false when another process holds it.
// The lock lasts until the returned file is closed (or the process dies).
func lockDir(path string) (f *os.File, owner bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	switch err {
	case nil:
		return f, true, nil
	case syscall.EWOULDBLOCK:
		return f, false, nil
	}
	f.Close()
	return nil, false, err
}
