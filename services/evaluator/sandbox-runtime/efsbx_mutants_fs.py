"""The job's directory put back after each mutant, so every mutant starts from the same files.

A direct `python -m pytest` of a mutant starts from a clean copy of the project; mutants of one batch share
the job's directory (it is also TMPDIR, so pytest's tmp_path lives there). A test that writes a file, a
database, a cache directory would otherwise leave it for the next mutant. After each test process ends, what
it added is removed and what it changed or removed is written back from the copy taken before the first.
"""

import os
import stat

KEEP_LIMIT = 16 * 1024 * 1024  # bytes of file contents kept to write back (projects are at most 8 MiB)


class DirSnapshot:
    def __init__(self, root):
        self.root = root
        self.files = {}  # rel -> (size, mtime_ns, mode, contents or None)
        self.dirs = set()
        self.links = {}
        kept = 0
        for rel, entry in self._walk():
            if entry.is_symlink():
                self.links[rel] = os.readlink(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                self.dirs.add(rel)
            elif entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                contents = None
                if kept + info.st_size <= KEEP_LIMIT:
                    with open(entry.path, "rb") as handle:
                        contents = handle.read()
                    kept += len(contents)
                self.files[rel] = (info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode), contents)

    def _walk(self):
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            try:
                entries = list(os.scandir(os.path.join(self.root, rel_dir)))
            except OSError:
                continue
            for entry in entries:
                rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
                yield rel, entry
                if entry.is_dir(follow_symlinks=False) and not entry.is_symlink():
                    pending.append(rel)

    def restore(self):
        """Best effort: what cannot be put back (a file too large to keep) stays as the test left it."""
        extra_dirs = []
        for rel, entry in list(self._walk()):
            path = entry.path
            try:
                if entry.is_symlink():
                    if self.links.get(rel) != os.readlink(path):
                        os.unlink(path)
                elif entry.is_dir(follow_symlinks=False):
                    if rel not in self.dirs:
                        extra_dirs.append(path)
                        os.chmod(path, 0o700)  # a test may have locked it
                elif rel not in self.files:
                    os.unlink(path)
                else:
                    size, mtime, mode, contents = self.files[rel]
                    info = entry.stat(follow_symlinks=False)
                    if (info.st_size, info.st_mtime_ns) != (size, mtime) and contents is not None:
                        self._write(rel, contents, mode, mtime)
            except OSError:
                pass
        for path in sorted(extra_dirs, key=len, reverse=True):
            try:
                os.rmdir(path)
            except OSError:
                pass
        for rel in sorted(self.dirs, key=len):
            path = os.path.join(self.root, rel)
            if not os.path.isdir(path):
                try:
                    os.mkdir(path, 0o700)
                except OSError:
                    pass
        for rel, (size, mtime, mode, contents) in self.files.items():
            path = os.path.join(self.root, rel)
            if contents is not None and not os.path.lexists(path):
                self._write(rel, contents, mode, mtime)

    def _write(self, rel, contents, mode, mtime):
        path = os.path.join(self.root, rel)
        try:
            if os.path.lexists(path):
                os.unlink(path)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode or 0o600)
            try:
                view = memoryview(contents)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.utime(path, ns=(mtime, mtime))
        except OSError:
            pass
