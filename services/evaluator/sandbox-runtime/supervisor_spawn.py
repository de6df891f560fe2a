"""Starting one job as its own uid with rlimits, and collecting its capped output and result records."""

import ast
import ctypes
import fcntl
import os
import re
import resource
import select
import signal
import time

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
RESULT_CAP = 16 * 1024 * 1024
READ_CHUNK = 65536
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class InvalidJob(Exception):
    pass


def job_files(job):
    """(files to write, spec for the runner, expected number of tests or None) for one job."""
    runner = job.get("runner")
    code, tests = job.get("code"), job.get("tests")
    if not isinstance(code, str) or not isinstance(tests, str):
        raise InvalidJob("code and tests must be strings")
    spec = {"runner": runner}
    if runner == "humaneval":
        entry = job.get("entryPoint")
        if not isinstance(entry, str) or not entry.isidentifier():
            raise InvalidJob("humaneval needs entryPoint, a Python identifier")
        spec["entryPoint"] = entry
        return {"solution.py": code, "check.py": tests}, spec, 1
    if runner == "mbpp":
        setup = job.get("setupCode") or ""
        if not isinstance(setup, str):
            raise InvalidJob("setupCode must be a string")
        return {"setup_code.py": setup, "solution.py": code, "tests.py": tests}, spec, _statement_count(tests)
    if runner in ("pytest", "unittest"):
        module = job.get("moduleName") or "solution"
        if not isinstance(module, str) or not MODULE_NAME.match(module) or module.startswith("efsbx_"):
            raise InvalidJob("moduleName must be a Python identifier not starting with efsbx_")
        spec["moduleName"] = module
        return {module + ".py": code, "test_" + module + ".py": tests}, spec, None
    raise InvalidJob("unknown runner " + repr(runner))


def _statement_count(source):
    try:
        return len(ast.parse(source).body)
    except (SyntaxError, ValueError):
        return None  # the runner reports tests_syntax_error


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
    """The spec the runner reads from fd 3: `key value` lines, then `file <name> <bytes>` + raw content.

    Values are identifiers, hex or integers (no spaces or newlines), so the runner needs no json to parse it.
    """
    parts = ["%s %s\n" % (key, value) for key, value in fields.items()]
    chunks = ["".join(parts).encode()]
    for name, content in files.items():
        data = content.encode("utf-8", "surrogatepass")
        chunks.append(b"file %s %d\n" % (name.encode(), len(data)))
        chunks.append(data)
    return b"".join(chunks)


def _child(job_dir, uid, env, pipes, exec_status_w):
    """Runs between fork and exec: become the job's uid, enter its directory, exec the runner.

    Job-specific limits are applied by the runner itself once it has its spec (it is trusted code until
    it runs the candidate's), which is what lets the runner start before the job is known.
    """
    try:
        # Keep the exec-status pipe clear of fds 0-4, which the dup2 calls below overwrite.
        exec_status_w = fcntl.fcntl(exec_status_w, fcntl.F_DUPFD_CLOEXEC, 16)
        os.setsid()
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        # If the supervisor dies, so does the job (set after the uid change, which would clear it).
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        try:
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")  # the kernel's OOM killer should pick the job, never the supervisor
        except OSError:
            pass
        os.umask(0o077)
        os.chdir(job_dir)
        os.mkdir("tmp", 0o700)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        null = os.open(os.devnull, os.O_RDONLY)
        for target, source in enumerate((null, pipes["out_w"], pipes["err_w"], pipes["spec_r"], pipes["res_w"])):
            os.dup2(source, target, inheritable=True)
        os.closerange(5, exec_status_w)
        os.closerange(exec_status_w + 1, 65536)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execve(env["EVALFLEET_PYTHON"], [env["EVALFLEET_PYTHON"], "-B", "-s", RUNNER], _job_env(env, job_dir))
    except BaseException as exc:  # noqa: BLE001
        try:
            os.write(exec_status_w, ("%s: %s" % (type(exc).__name__, exc)).encode()[:1000])
        finally:
            os._exit(127)


def _job_env(base, job_dir):
    env = {k: v for k, v in base.items() if k != "EVALFLEET_PYTHON"}
    env.update(HOME=job_dir, TMPDIR=os.path.join(job_dir, "tmp"))
    return env


class Job:
    """A runner started ahead of its job (as the job's uid, in the job's directory), waiting on fd 3.

    Starting Python and importing the harness takes most of an evaluation's time; doing it while the
    evaluator is still sending the next job hides it.
    """

    def __init__(self, job_dir, uid, env):
        self.job_dir = job_dir
        self.uid = uid
        fds = {}
        for name in ("spec", "res", "out", "err", "status"):
            fds[name + "_r"], fds[name + "_w"] = os.pipe2(os.O_CLOEXEC)
        self.pid = os.fork()
        if self.pid == 0:
            _child(job_dir, uid, env, fds, fds["status_w"])
        for name in ("spec_r", "res_w", "out_w", "err_w", "status_w"):
            os.close(fds[name])
        # Whether exec succeeded: the status pipe closes on exec (CLOEXEC) or carries the child's error.
        self.spawn_error = _read_all(fds["status_r"]).decode("utf-8", "replace") or None
        os.close(fds["status_r"])
        self.spec_w = fds["spec_w"]
        self.fds = {fds["out_r"]: "out", fds["err_r"]: "err", fds["res_r"]: "res"}
        self.exit_status = None

    def alive(self):
        if self.exit_status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = status
        return self.exit_status is None and self.spawn_error is None

    def dispatch(self, spec_bytes):
        """Hand the runner its job. False if it is gone (the caller starts another)."""
        try:
            view = memoryview(spec_bytes)
            while view:
                view = view[os.write(self.spec_w, view) :]
            return True
        except BrokenPipeError:
            return False
        finally:
            os.close(self.spec_w)
            self.spec_w = None

    def discard(self):
        """Close our ends without running a job (the caller kills the runner)."""
        if self.spec_w is not None:
            os.close(self.spec_w)
            self.spec_w = None
        for fd in list(self.fds):
            os.close(fd)
        self.fds = {}

    def collect(self, deadline, captures, wake_fd, on_timeout):
        """Read output until the runner exits or the deadline passes. Returns True on timeout."""
        poller = select.poll()
        for fd in list(self.fds) + [wake_fd]:
            poller.register(fd, select.POLLIN)
        timed_out = False
        while self.exit_status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = status
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                on_timeout()
                _, self.exit_status = os.waitpid(self.pid, 0)
                break
            for fd, _event in poller.poll(min(remaining, 1.0) * 1000):
                if fd == wake_fd:
                    _drain_nonblocking(wake_fd)
                    continue
                if not self._read(fd, captures):
                    poller.unregister(fd)
        return timed_out

    def wait(self):
        if self.exit_status is None:
            _, self.exit_status = os.waitpid(self.pid, 0)

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
                    break  # a writer survived; the cleanup will have flagged it
            os.close(fd)
        self.fds = {}


class ResultCapture(Capture):
    """Result records must not be cut in the middle: keep the first RESULT_CAP bytes only."""

    def __init__(self):
        super().__init__(RESULT_CAP)
        self.tail_cap = 0
        self.head_cap = RESULT_CAP


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _drain_nonblocking(fd):
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def exit_details(status):
    """(exit code or None, signal number or None) from a wait status."""
    if status is None:
        return None, None
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.WEXITSTATUS(status), None
