"""Fork server: a pre-imported Python that forks each job's candidate and checker processes.

Started by the supervisor once per container (or process sandbox worker), before any job exists, so its
memory holds no job's data: every child is a clean copy that has already imported the harness (and pytest),
which saves Python's start-up (~15 ms of CPU) twice per job.

Control channel: a SOCK_SEQPACKET socket (argv[1]) to the supervisor, JSON messages.
  <- {"role": "candidate"|"checker", "uid": int|null, "cwd": str, "env": {...}, "oom": int}  + fds (SCM_RIGHTS)
  -> {"pid": int} or {"error": str}
  <- {"preload": "pytest"}   -> {"preloaded": true}
  -> {"exit": pid, "status": int, "cpu": seconds, "maxrss": bytes}   when a child ends (wait4)
The fds become the child's 1, 2, 3, ... in order (0 is /dev/null). EOF on the socket ends the zygote; its
children die with it (PR_SET_PDEATHSIG).
"""

import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys

# Everything a job process may import is imported here once, so that no fork pays for it (the runtime is
# read with -B: an import in a child would compile the source again).
import ast  # noqa: F401
import hmac  # noqa: F401
import importlib.abc  # noqa: F401
import importlib.util  # noqa: F401
import linecache  # noqa: F401
import resource  # noqa: F401
import secrets  # noqa: F401
import traceback  # noqa: F401

import efsbx_candidate
import efsbx_checker
import efsbx_remote  # noqa: F401
import efsbx_runners
import efsbx_unittest  # noqa: F401

efsbx_runners.preload()

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)
ROLES = {"candidate": efsbx_candidate.main, "checker": efsbx_checker.main}


def _child(request, fds):
    """Between fork and the role's main: become the job's uid, take the given fds as 1..n, enter cwd."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        _libc.prctl(PR_SET_NAME, request["role"].encode())  # what ps shows: candidate / checker
        if request["role"] == "candidate":
            # The candidate yields the CPU to the supervisor and the checker: a fork bomb cannot starve the
            # clean-up that kills it. Alone, it still gets the whole CPU.
            os.nice(19)
        uid = request.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        # Set after the uid change, which would clear it: if the zygote dies, so do its children.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if request["role"] == "checker":
            # Not ptrace-able and /proc/<pid>/mem, fd/ closed to same-uid processes (the process sandbox).
            _libc.prctl(PR_SET_DUMPABLE, 0)
        try:
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write(str(int(request.get("oom", 0))))
        except OSError:
            pass
        os.umask(0o077)
        os.chdir(request["cwd"])
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds]
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        for target, fd in enumerate(moved, start=1):
            os.dup2(fd, target)
        os.closerange(len(moved) + 1, 65536)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["efsbx-" + request["role"]]
        ROLES[request["role"]]()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001
        try:
            os.write(2, ("zygote child failed: %s: %s\n" % (type(exc).__name__, exc)).encode()[:2000])
        except OSError:
            pass
        code = 127
    os._exit(code)


def _preload(name):
    """pytest costs ~1 ms per fork once imported: load it only when the first suite needs it."""
    if name == "pytest":
        try:
            import efsbx_pytest  # noqa: F401
        except ImportError:  # a process sandbox whose Python lacks pytest still runs the other formats
            pass
    gc.freeze()


def _spawn(sock):
    try:
        message, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 16)
    except ConnectionResetError:
        return False
    if not message:
        for fd in fds:
            os.close(fd)
        return False
    try:
        request = json.loads(message)
        if "preload" in request:
            _preload(request["preload"])
            sock.send(b'{"preloaded": true}')
            return True
        if request.get("role") not in ROLES:
            raise ValueError("unknown role")
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child(request, fds)
        reply = {"pid": pid}
    except Exception as exc:  # noqa: BLE001
        reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        for fd in fds:
            os.close(fd)
    sock.send(json.dumps(reply).encode())
    return True


def _reap(sock):
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        report = {
            "exit": pid,
            "status": status,
            "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss": usage.ru_maxrss * 1024,
        }
        sock.send(json.dumps(report).encode())


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    wake_r, wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    # Objects of the zygote are never collected in a child: that keeps their pages shared (copy-on-write).
    gc.freeze()
    sock.send(b'{"ready": true}')
    while True:
        for fd, _event in poller.poll():
            if fd == wake_r:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                _reap(sock)
            elif not _spawn(sock):
                return 0


if __name__ == "__main__":
    sys.exit(main())
