"""Ending a job: kill every process of its uid, then remove everything the uid owns.

Killing is done by the supervisor itself (uid 0 with CAP_KILL in the container), process by process through
pidfds, so nothing of the job can stop or outlive it: the job cannot signal root. Only once no process of
the uid is left does a short-lived deleter become the job's uid (the supervisor has no CAP_DAC_OVERRIDE or
CAP_FOWNER, and the job's files are 0600/0700) to remove its files, its /dev/shm and /dev/mqueue entries and
its SysV IPC objects, matched by owner or creator uid, so a segment handed to another owner goes too.
"""

import ctypes
import os
import shutil
import signal
import stat
import time

KILL_DEADLINE_S = 5.0
MASS_KILL_THRESHOLD = 8
MASS_KILL_WAIT_S = 0.2
DELETE_DEADLINE_S = 5.0
SHARED_DIRS = ("/dev/shm", "/dev/mqueue")
IPC_RMID = 0
# /proc/sysvipc/<table>: (id column, owner uid column, creator uid column)
IPC_TABLES = {"shm": (1, 7, 9), "sem": (1, 4, 6), "msg": (1, 7, 9)}
_libc = ctypes.CDLL(None, use_errno=True)


# Processes of root that no sweep needs to read (see skip_root_processes).
_ROOT_PIDS = frozenset()


def skip_root_processes(pids):
    """Sweeps leave out these pids: root's own processes, whose pids no job can come to hold while the
    caller runs (init, the caller itself, and its unreaped children, the zygote)."""
    global _ROOT_PIDS
    _ROOT_PIDS = frozenset(str(pid) for pid in pids)


def live_pids_of(uid):
    """Pids (not zombies) whose real uid is `uid`, from /proc."""
    return [pid for pid, _running in _processes_of(uid)]


def _processes_of(uid):
    """(pid, running) of every live (not zombie) process whose real uid is `uid`."""
    return processes_by_uid({uid}).get(uid, [])


def processes_by_uid(uids):
    """{uid: [(pid, running), ...]} for the live (not zombie) processes of the given uids, in one pass."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or entry in _ROOT_PIDS:
            continue
        state = _uid_and_state(entry)
        if state is not None and state[0] in uids:
            found.setdefault(state[0], []).append((int(entry), state[1]))
    return found


def _uid_and_state(pid):
    """(real uid, not stopped) of a process, or None when it is gone or a zombie."""
    try:
        with open("/proc/%s/status" % pid, "rb") as handle:
            status = handle.read()
    except OSError:
        return None
    # Only the two lines we need (a status file has ~55): `State:\tR (running)` and `Uid:\t<real> ...`.
    state, uid = _status_field(status, b"\nState:"), _status_field(status, b"\nUid:")
    if uid is None or state in (b"Z", b"X"):
        return None
    return int(uid), state not in (b"T", b"t")


def _status_field(status, key):
    """The first word after `key` (which starts with a newline) in a /proc status file, or None."""
    start = status.find(key)
    if start < 0:
        return None
    end = status.find(b"\n", start + 1)
    words = status[start + len(key) : end if end >= 0 else len(status)].split(None, 1)
    return words[0] if words else None


def _signal(pid, uid, signum):
    """Signal `pid` if it still belongs to `uid`; True when sent."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        # The pidfd pins the process: check that it is still the uid's before signalling it.
        found = _uid_and_state(pid)
        if found is not None and found[0] == uid:
            signal.pidfd_send_signal(fd, signum)
            return True
    except OSError:
        pass
    finally:
        os.close(fd)
    return False


def _mass_kill(uid):
    """A fast first pass for many processes (a fork bomb): a helper that becomes the uid kills all of them in
    one kill(-1) call. The job could stop it; the sweep that follows (as root) does not depend on it."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    deadline = time.monotonic() + MASS_KILL_WAIT_S
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.0005)


def kill_uid(uid, deadline=None):
    """Kill every process of `uid`: SIGSTOP each one first (a stopped process cannot fork, so a fork bomb cannot
    outrun the sweep) until a sweep finds no process it has not stopped, then SIGKILL until none is left.
    False if some survived the deadline."""
    deadline = deadline or time.monotonic() + KILL_DEADLINE_S
    found = len(_processes_of(uid))
    if found == 0:
        return True  # nothing of the uid is left to fork another: done
    if found > MASS_KILL_THRESHOLD:
        _mass_kill(uid)
    stopped = set()
    while time.monotonic() < deadline:
        new = [pid for pid, _running in _processes_of(uid) if pid not in stopped]
        if not new:
            break
        for pid in new:
            _signal(pid, uid, signal.SIGSTOP)
            stopped.add(pid)
    pause = 0.0005
    while True:
        alive = _processes_of(uid)
        if not alive:
            return True
        for pid, _running in alive:
            _signal(pid, uid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return not live_pids_of(uid)
        # Killed processes need CPU to exit (at nice 19): give it to them rather than spin.
        time.sleep(pause)
        pause = min(pause * 2, 0.008)


def _remove_tree(path):
    """Remove a file or a whole tree the caller owns, whatever modes the job left on its directories."""
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        os.unlink(path)
        return
    # As their owner we may chmod directories we cannot read: open every one up before removing them.
    pending = [path]
    while pending:
        directory = pending.pop()
        os.chmod(directory, 0o700)
        with os.scandir(directory) as entries:
            pending.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))
    shutil.rmtree(path)


def ipc_objects_of(uid):
    """(table, id) of SysV IPC objects owned or created by `uid`."""
    found = []
    for table, (id_col, uid_col, cuid_col) in IPC_TABLES.items():
        try:
            with open("/proc/sysvipc/" + table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > cuid_col and uid in (int(cols[uid_col]), int(cols[cuid_col])):
                found.append((table, int(cols[id_col])))
    return found


def _remove_ipc_objects(uid):
    remove = {
        "shm": lambda ident: _libc.shmctl(ident, IPC_RMID, None),
        "sem": lambda ident: _libc.semctl(ident, 0, IPC_RMID),
        "msg": lambda ident: _libc.msgctl(ident, IPC_RMID, None),
    }
    for table, ident in ipc_objects_of(uid):
        remove[table](ident)


def _deleter_main(uid, directories):
    """As the job's uid, with no process of it alive: empty its directories and drop its shared objects."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    code = 0
    targets = [os.path.join(d, e) for d in directories for e in _ls(d)]
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
    except Exception:  # noqa: BLE001 - checked below by the supervisor, which recycles on doubt
        code |= 4
    return code


def _ls(directory):
    try:
        return os.listdir(directory)
    except OSError:
        return []


def _run_deleter(uid, directories):
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            code = _deleter_main(uid, directories)
        finally:
            os._exit(code)
    deadline = time.monotonic() + DELETE_DEADLINE_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.0005)


def _remove_flat(uid, directories):
    """The common case without a deleter: the uid left only files (no directory) in our directories, which we
    may unlink as their directories' owner, and nothing in the shared directories or SysV IPC. False when the
    deleter is needed."""
    for shared in SHARED_DIRS:
        for name in _ls(shared):
            try:
                if os.lstat(os.path.join(shared, name)).st_uid == uid:
                    return False
            except FileNotFoundError:
                pass
    if ipc_objects_of(uid):
        return False
    for directory in directories:
        try:
            with os.scandir(directory) as entries:
                if any(e.is_dir(follow_symlinks=False) for e in entries):
                    return False
            for name in os.listdir(directory):
                os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass
        except OSError:
            return False
    return True


def reap_uid(uid, directories):
    """Kill the uid's processes, then remove what it owns and the given (root-owned) directories.

    Returns None when provably clean, else what is left (the caller must then recycle the container).
    """
    if not kill_uid(uid):
        return "processes of uid %d survived SIGKILL: %s" % (uid, live_pids_of(uid)[:10])
    if not _remove_flat(uid, directories) and not _run_deleter(uid, directories):
        return "the deleter for uid %d failed" % uid
    for directory in directories:
        try:
            os.rmdir(directory)
        except FileNotFoundError:
            pass
        except OSError as exc:
            return "directory not removed: %s" % exc
    leftovers = ipc_objects_of(uid)
    if leftovers:
        return "IPC objects of uid %d left: %s" % (uid, leftovers[:10])
    live = live_pids_of(uid)
    if live:
        return "processes of uid %d still alive: %s" % (uid, live[:10])
    return None


def kill_process_group(pgid):
    """Process mode: no uid to sweep, so kill the process's session; a job that setsid()s again escapes."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def remove_dir(path):
    """Remove a tree the caller may remove (process mode; a checker directory); what is left, or None."""
    if os.path.lexists(path):
        for root, dirs, _files in os.walk(path):
            for name in dirs:
                try:
                    os.chmod(os.path.join(root, name), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
    return None if not os.path.lexists(path) else "not removed: " + path
