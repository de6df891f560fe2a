"""Starting one job's two processes (candidate and checker) through the zygote, and collecting its output.

Per job: the candidate (the job's uid, in the job's directory) and the checker (the checker's uid, in its
own directory), both forked by the zygote ahead of time and blocked on their spec pipes. The supervisor
keeps the write ends of the spec pipes and the read ends of stdout, stderr (shared by both processes) and
the checker's result pipe; the call channel between checker and candidate is theirs alone.
"""

import json
import os
import select
import socket
import time

import efsbx_runners as runners

ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
RESULT_CAP = 4 * 1024 * 1024
READ_CHUNK = 65536
CANDIDATE_OOM_SCORE = 1000  # the kernel's OOM killer picks the candidate first, never the supervisor
CHECKER_OOM_SCORE = 500


InvalidJob = runners.InvalidJob


def job_files(job):
    """(candidate files, checker files, fields for both, expected number of tests or None) for one job."""
    module = runners.module_for(job.get("runner"))
    if module is None:
        raise InvalidJob("unknown runner " + repr(job.get("runner")))
    return module.job_files(job)


class Capture:
    """Keeps the first 3/4 and the last 1/4 of a stream's bytes up to `cap`; tracebacks live at the end."""

    def __init__(self, cap):
        self.head_cap = cap - cap // 4
        self.tail_cap = cap // 4
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data):
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data and self.tail_cap:
            self.tail += data
            if len(self.tail) > 2 * self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def _tail(self):
        return bytes(self.tail[-self.tail_cap :]) if self.tail_cap else b""

    @property
    def truncated(self):
        return self.total > len(self.head) + len(self._tail())

    def text(self):
        tail = self._tail()
        dropped = self.total - len(self.head) - len(tail)
        middle = ("\n[... %d bytes truncated ...]\n" % dropped).encode() if dropped > 0 else b""
        return (bytes(self.head) + middle + tail).decode("utf-8", "replace")


def encode_spec(fields, files):
    """The spec a job process reads from fd 3: `key value` lines, then `file <name> <bytes>` + raw content.

    Values are identifiers, hex or integers (no spaces or newlines), so neither process needs json to parse it.
    """
    parts = ["%s %s\n" % (key, value) for key, value in fields.items()]
    chunks = ["".join(parts).encode()]
    for name, content in files.items():
        data = content.encode("utf-8", "surrogatepass")
        chunks.append(b"file %s %d\n" % (name.encode(), len(data)))
        chunks.append(data)
    return b"".join(chunks)


class Zygote:
    """The fork server (zygote.py) and its control socket; remembers the exit reports of its children."""

    def __init__(self, python, env, ready_timeout_s=30.0):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            try:
                ours.close()
                os.set_inheritable(theirs.fileno(), True)
                os.closerange(3, theirs.fileno())
                os.closerange(theirs.fileno() + 1, 65536)
                os.execve(python, [python, "-B", "-s", ZYGOTE, str(theirs.fileno())], env)
            finally:
                os._exit(127)
        theirs.close()
        self.sock = ours
        self.exits = {}
        ready = self._receive(time.monotonic() + ready_timeout_s)
        if ready is None or not ready.get("ready"):
            raise RuntimeError("the zygote did not start")

    def fileno(self):
        return self.sock.fileno()

    def spawn(self, processes):
        """Fork processes, each given as (request fields, its fds); their pids, in order."""
        requests = [dict(fields, fds=len(fds)) for fields, fds in processes]
        all_fds = [fd for _fields, fds in processes for fd in fds]
        socket.send_fds(self.sock, [json.dumps({"spawn": requests}).encode()], all_fds)
        deadline = time.monotonic() + 10.0
        while True:
            message = self._receive(deadline)
            if message is None:
                raise RuntimeError("the zygote did not answer")
            if "error" in message:  # the caller replaces the container, and with it any process forked before
                raise RuntimeError("the zygote could not fork: " + str(message["error"]))
            if "pids" in message:
                return message["pids"]

    def preload(self, name):
        """Have the zygote import a preload's modules (efsbx_runners.preload) for every later fork."""
        socket.send_fds(self.sock, [json.dumps({"preload": name}).encode()], [])
        deadline = time.monotonic() + 30.0
        while True:
            message = self._receive(deadline)
            if message is None:
                raise RuntimeError("the zygote did not preload " + name)
            if "error" in message:
                raise RuntimeError("the zygote could not preload %s: %s" % (name, message["error"]))
            if "preloaded" in message:
                return

    def collect_exits(self):
        """Read every exit report already waiting (never blocks)."""
        while self._receive(time.monotonic()) is not None:
            pass

    def wait_exit(self, pid, deadline):
        """The exit report of `pid` (status, cpu, maxrss), waiting until `deadline`; None if it did not come."""
        while pid not in self.exits:
            if self._receive(deadline) is None and time.monotonic() >= deadline:
                return None
        return self.exits.pop(pid)

    def wait_exit_peek(self, pid, deadline):
        """Wait until the exit report of `pid` is in (kept for wait_exit) or the deadline passes."""
        while pid not in self.exits and time.monotonic() < deadline:
            self._receive(deadline)

    def _receive(self, deadline):
        """One message (exit reports are filed away and also returned); None when none came in time."""
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self.sock], [], [], remaining)[0]:
            return None
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("the zygote exited")
        message = json.loads(data)
        if "exit" in message:
            self.exits[message["exit"]] = message
        return message

    def close(self):
        self.sock.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


class Job:
    """A candidate and a checker started ahead of their job, each waiting on its spec pipe."""

    def __init__(self, zygote, job_dir, uid, checker_dir, checker_uid):
        self.job_dir = job_dir
        self.uid = uid
        self.checker_dir = checker_dir
        self.checker_uid = checker_uid
        self.zygote = zygote
        fds = {}
        for name in ("cspec", "kspec", "res", "out", "err", "req", "rep"):
            fds[name + "_r"], fds[name + "_w"] = os.pipe2(os.O_CLOEXEC)
        child_ends = ("cspec_r", "kspec_r", "res_w", "out_w", "err_w", "req_r", "req_w", "rep_r", "rep_w")
        candidate = _request("candidate", uid, job_dir, CANDIDATE_OOM_SCORE)
        checker = _request("checker", checker_uid, checker_dir, CHECKER_OOM_SCORE)
        try:
            self.pid, self.checker_pid = zygote.spawn(
                [
                    (candidate, [fds["out_w"], fds["err_w"], fds["cspec_r"], fds["req_r"], fds["rep_w"]]),
                    (checker, [fds["out_w"], fds["err_w"], fds["kspec_r"], fds["res_w"], fds["req_w"], fds["rep_r"]]),
                ]
            )
        finally:
            for name in child_ends:
                os.close(fds[name])
        self.spec_fds = [fds["cspec_w"], fds["kspec_w"]]
        self.fds = {fds["out_r"]: "out", fds["err_r"]: "err", fds["res_r"]: "res"}
        self.result_fd = fds["res_r"]
        self.exits = {}

    def dispatch(self, candidate_spec, checker_spec):
        """Hand both processes their specs. False if either is gone (the caller starts another pair)."""
        ok = True
        for fd, data in zip(self.spec_fds, (candidate_spec, checker_spec)):
            try:
                view = memoryview(data)
                while view and ok:
                    view = view[os.write(fd, view) :]
            except BrokenPipeError:
                ok = False
            finally:
                os.close(fd)
        self.spec_fds = []
        return ok

    def discard(self):
        """Close our ends without running a job (the caller kills the processes)."""
        for fd in self.spec_fds + list(self.fds):
            os.close(fd)
        self.spec_fds = []
        self.fds = {}

    def collect(self, deadline, captures):
        """Read output until the checker closes its result pipe (it is done) or the deadline. True on timeout."""
        poller = select.poll()
        for fd in self.fds:
            poller.register(fd, select.POLLIN)
        poller.register(self.zygote.fileno(), select.POLLIN)
        while self.result_fd in self.fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            for fd, _event in poller.poll(min(remaining, 1.0) * 1000):
                if fd == self.zygote.fileno():
                    self.zygote.collect_exits()
                elif fd in self.fds and not self._read(fd, captures):
                    poller.unregister(fd)
                    if fd == self.result_fd:
                        os.close(fd)
                        del self.fds[fd]
        return False

    def wait_exits(self, deadline):
        """Exit reports of both processes (after they were killed or ended): {pid: report}."""
        for pid in (self.pid, self.checker_pid):
            if pid not in self.exits:
                report = self.zygote.wait_exit(pid, deadline)
                if report is not None:
                    self.exits[pid] = report
        return self.exits

    def _read(self, fd, captures):
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            return False
        captures[self.fds[fd]].feed(chunk)
        return True

    def drain(self, captures, deadline):
        """After every process of the job is dead: read what is left in the pipes, then close them."""
        for fd in list(self.fds):
            os.set_blocking(fd, False)
            while time.monotonic() < deadline:
                try:
                    if not self._read(fd, captures):
                        break
                except BlockingIOError:
                    break  # a writer survived; the clean-up will have flagged it
            os.close(fd)
        self.fds = {}


def _request(role, uid, directory, oom):
    """A zygote spawn request; the environment adds HOME and TMPDIR to the zygote's (the supervisor's base)."""
    return {"role": role, "uid": uid, "cwd": directory, "setenv": {"HOME": directory, "TMPDIR": directory}, "oom": oom}


class ResultCapture(Capture):
    """The checker's records must not be cut in the middle: keep the first RESULT_CAP bytes only."""

    def __init__(self):
        super().__init__(RESULT_CAP)
        self.tail_cap = 0
        self.head_cap = RESULT_CAP


def exit_details(status):
    """(exit code or None, signal number or None) from a wait status."""
    if status is None:
        return None, None
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.WEXITSTATUS(status), None
