"""Fork server: a pre-imported Python that forks each job's candidate and checker processes.

Started by the supervisor once per container (or process sandbox worker), before any job exists, so its
memory holds no job's data: every child is a clean copy that has already imported the harness, which saves
Python's start-up (~15 ms of CPU) twice per job.

A fork's cost is mostly the pages the child writes (copy-on-write) and the Python it runs before the role's
main; the zygote keeps both small. It imports the eager runners (HumanEval, MBPP, EvalPlus) and the modules
candidates commonly import, and no module that registers an at-fork handler (threading, random: ~1 ms of CPU
per fork between them). The other runners, and pytest, are imported when the supervisor first needs them.

Control channel: a SOCK_SEQPACKET socket (argv[1]) to the supervisor, JSON messages.
  <- {"spawn": [{"role": "candidate"|"checker", "uid": int|null, "cwd": str, "setenv": {...}, "oom": int,
                 "fds": n}, ...]}  + the processes' fds, each one's n in order (SCM_RIGHTS)
     setenv: what the child's environment adds to the zygote's own, which the supervisor chose (HOME, TMPDIR)
  -> {"pids": [int, ...]} or {"error": str}
  <- {"preload": "runners"|"pytest"}   -> {"preloaded": true} (efsbx_runners.preload)
  -> {"exit": pid, "status": int, "cpu": seconds, "maxrss": bytes}   when a child ends (wait4)
The fds become the child's 1, 2, 3, ... in order (0 is /dev/null). EOF on the socket ends the zygote; its
children die with it (PR_SET_PDEATHSIG). A job's two processes come from one request, forked back to back
with nothing in between that writes to the zygote's pages again (each fork makes them copy-on-write).
"""

import _signal
import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys

# What a job process of an eager runner may import is imported here once, so that no fork pays for it (the
# runtime is read with -B: an import in a child would compile the source again). `ast`: Python 3.11's
# traceback module imports it to place its carets, so every failing sample's traceback would pay ~10 ms.
import ast  # noqa: F401
import linecache  # noqa: F401
import resource  # noqa: F401
import traceback  # noqa: F401

# Modules candidates commonly import: HumanEval's prompts start with `from typing import List`, which costs a
# fork ~7 ms of CPU when typing is not here yet. None of them registers an at-fork handler.
import bisect  # noqa: F401
import collections  # noqa: F401
import datetime  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import hashlib  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401
import string  # noqa: F401
import typing  # noqa: F401

import efsbx_candidate
import efsbx_checker
import efsbx_remote  # noqa: F401
import efsbx_runners

efsbx_runners.preload("eager")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
_libc = ctypes.CDLL(None, use_errno=True)
ROLES = {"candidate": efsbx_candidate.main, "checker": efsbx_checker.main}


def _child(request, fds):
    """Between fork and the role's main: become the job's uid, take the given fds as 1..n, enter cwd."""
    try:
        # _signal's own functions: signal.signal() wraps its answer in an enum, Python a fork need not run.
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.setsid()
        # Written while still root: a job's uid may not lower its OOM score, and the checker, once not
        # dumpable, may not write its own /proc files at all.
        _write_own("oom_score_adj", b"%d" % int(request.get("oom", 0)))
        _write_own("comm", request["role"].encode())  # what ps shows: candidate / checker
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
        os.umask(0o077)
        os.chdir(request["cwd"])
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds]
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        for target, fd in enumerate(moved, start=1):
            os.dup2(fd, target)
        os.closerange(len(moved) + 1, 65536)
        for key, value in request["setenv"].items():
            os.environ[key] = value
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


def _write_own(name, data):
    """Write one of this process's /proc/self files; a failure leaves the zygote's value."""
    try:
        fd = os.open("/proc/self/" + name, os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        pass


def _preload(name):
    efsbx_runners.preload(name)
    gc.freeze()


def _spawn(sock):
    try:
        message, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 32)
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
        processes = request["spawn"]
        if sum(process["fds"] for process in processes) != len(fds):
            raise ValueError("the fds do not match the processes")
        pids, start = [], 0
        for process in processes:
            if process.get("role") not in ROLES:
                raise ValueError("unknown role")
            own = fds[start : start + process["fds"]]
            start += process["fds"]
            pid = os.fork()
            if pid == 0:
                sock.close()
                _child(process, own)
            pids.append(pid)
        reply = {"pids": pids}
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
