"""Ending a job: kill every process of its uid and remove everything the uid owns.

The supervisor is uid 0 with only CAP_SETUID and CAP_SETGID: it cannot signal another uid's processes
(no CAP_KILL) nor touch the job's 0600/0700 files (no CAP_DAC_OVERRIDE/CAP_FOWNER). So it forks a reaper
that becomes the job's uid: kill(-1, SIGKILL) then reaches exactly the job's processes (the pid namespace is
the container's, and every other process there is root), and as their owner it may delete the job's files.
"""

import ctypes
import os
import shutil
import signal
import stat
import time

REAP_DEADLINE_S = 2.0
SHARED_DIRS = ("/dev/shm", "/dev/mqueue")
IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)


def live_pids_of(uid, exclude=()):
    """Pids (not zombies) whose real uid is `uid`, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open("/proc/" + entry + "/status", "rb") as handle:
                status = handle.read()
        except OSError:
            continue
        state = uid_line = None
        for line in status.split(b"\n"):
            if line.startswith(b"State:"):
                state = line.split()[1:2]
            elif line.startswith(b"Uid:"):
                uid_line = line.split()
        if uid_line and int(uid_line[1]) == uid and state not in ([b"Z"], [b"X"]):
            pids.append(int(entry))
    return pids


def _kill_everything_of_my_uid(deadline):
    me = os.getpid()
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not live_pids_of(os.getuid(), exclude=(me,)):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)


def _remove_tree(path):
    def unlock_and_retry(function, failed_path, _exc_info):
        # The job may have chmod'ed its own directories to 000; as their owner we may open them again.
        os.chmod(os.path.dirname(failed_path), 0o700)
        try:
            os.chmod(failed_path, 0o700)
        except OSError:
            pass
        function(failed_path)

    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        os.chmod(path, 0o700)
        shutil.rmtree(path, onerror=unlock_and_retry)
    else:
        os.unlink(path)


def _remove_ipc_objects(uid):
    """SysV shared memory, semaphores and message queues outlive their processes; drop the job's."""
    libc = _libc
    for table, remove in (
        ("shm", lambda ident: libc.shmctl(ident, IPC_RMID, None)),
        ("sem", lambda ident: libc.semctl(ident, 0, IPC_RMID)),
        ("msg", lambda ident: libc.msgctl(ident, IPC_RMID, None)),
    ):
        try:
            with open("/proc/sysvipc/" + table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        header_uid = {"shm": 7, "sem": 4, "msg": 7}[table]
        for row in rows:
            cols = row.split()
            if len(cols) > header_uid and int(cols[header_uid]) == uid:
                remove(int(cols[1]))


def _reaper_main(uid, job_dir):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    code = 0
    if not _kill_everything_of_my_uid(time.monotonic() + REAP_DEADLINE_S):
        code |= 1
    # The job directory itself is root's (see supervisor._make_job_dir): empty it, root removes it.
    targets = [os.path.join(job_dir, e) for e in _ls(job_dir)] if job_dir else []
    targets += [os.path.join(d, e) for d in SHARED_DIRS for e in _ls(d)]
    for path in targets:
        try:
            if os.lstat(path).st_uid == uid:
                _remove_tree(path)
        except FileNotFoundError:
            pass
        except OSError:
            code |= 2
    try:
        _remove_ipc_objects(uid)
    except Exception:  # noqa: BLE001 - best effort; the container is recycled periodically anyway
        pass
    return code


def _ls(directory):
    try:
        return os.listdir(directory)
    except OSError:
        return []


def reap_uid(uid, job_dir, attempts=3):
    """Kill the uid's processes and remove what it owns, and the job directory if given.

    Returns None when provably clean, else what is left (the caller must then recycle the container).
    """
    for _ in range(attempts):
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = _reaper_main(uid, job_dir)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        # A leftover of the job may kill the reaper (same uid); then we simply try again.
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            break
    if job_dir:
        try:
            os.rmdir(job_dir)
        except FileNotFoundError:
            pass
        except OSError as exc:
            return "job directory not removed: %s" % exc
    live = live_pids_of(uid)
    if live:
        return "processes of uid %d still alive: %s" % (uid, live[:10])
    return None


def kill_process_group(pgid):
    """Process mode: no uid to sweep, so kill the job's session; a job that setsid()s again escapes."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def remove_job_dir(path):
    if os.path.lexists(path):
        for root, dirs, _files in os.walk(path):
            for name in dirs:
                try:
                    os.chmod(os.path.join(root, name), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
    return None if not os.path.lexists(path) else "not removed: " + path
