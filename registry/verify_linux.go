package registry

import (
	"os"
	"syscall"
	"time"
)

// fileID is what identifies a file's content without reading it: any write
// changes the size or the change time (ctime, which no unprivileged call
// can set back), and a replaced file has another inode. mtime is kept too,
// for file systems whose ctime is coarse.
type fileID struct {
	Dev, Ino, Size   uint64
	Mode             uint32
	MtimeNs, CtimeNs int64
}

// statID returns the identity of the regular file at path (following
// symlinks when follow is set); ok is false for anything else.
func statID(path string, follow bool) (id fileID, ok bool, err error) {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(path)
	if err != nil {
		return fileID{}, false, err
	}
	id, ok = idOf(fi)
	return id, ok, nil
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return fileID{}, false
	}
	return fileID{Dev: uint64(st.Dev), Ino: st.Ino, Size: uint64(st.Size), Mode: uint32(fi.Mode()),
		MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano()}, true
}

// changed is when the file last changed, by its own timestamps.
func (id fileID) changed() time.Time { return time.Unix(0, max(id.CtimeNs, id.MtimeNs)) }
