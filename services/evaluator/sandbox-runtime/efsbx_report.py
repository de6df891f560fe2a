"""What the checker and the candidate share: the spec pipe, rlimits, tracebacks, and the checker's reporter.

The checker reports to the supervisor through its result pipe (fd 4): `test` records as tests finish (they
explain a job that never finishes) and one `final` record with the verdict. Only the checker holds that
pipe: the candidate runs under another uid and can neither reach the pipe nor the checker's memory, so the
old per-job nonce is only kept for suites that must run inside the candidate's process (see
efsbx_suites.py).

Startup cost matters less than it did (processes are forked from a pre-imported zygote), but records are
still encoded by the small encoder below: it handles only what the checker writes.
"""

import builtins
import os
import signal
import sys
import time

SPEC_FD = 3
RESULT_FD = 4
INTEGRITY = ("checker", "handle", "in-process")
MESSAGE_LIMIT = 4000
# Leading traceback frames that are ours (or importlib's, when we import the tests), not the job's.
_HARNESS_FRAMES = (os.path.dirname(os.path.abspath(__file__)) + os.sep, os.path.dirname(os.__file__) + "/importlib/", "<frozen importlib")

_write = os.write
_exit = os._exit
_perf = time.perf_counter
_type, _str, _int, _float, _dict, _list, _tuple = type, str, int, float, dict, list, tuple
_ESCAPES = {code: "\\u%04x" % code for code in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def encode(value):
    """JSON text of str/int/float/bool/None/list/tuple/dict values (finite floats only)."""
    kind = _type(value)
    if kind is _str:
        return '"' + value.translate(_ESCAPES) + '"'
    if value is None or value is True or value is False:
        return "null" if value is None else ("true" if value else "false")
    if kind is _int:
        return _int.__repr__(value)
    if kind is _float:
        return _float.__repr__(value)
    if kind is _dict:
        return "{" + ",".join(encode(_str(k)) + ":" + encode(v) for k, v in value.items()) + "}"
    if kind is _list or kind is _tuple:
        return "[" + ",".join(encode(v) for v in value) + "]"
    return encode(_str(value))


def read_spec():
    """Drain and close the spec pipe: (fields, files).

    Format (see supervisor_spawn.encode_spec): `key value` lines, then `file <name> <bytes>` lines each
    followed by exactly that many bytes of content.
    """
    chunks = []
    while True:
        chunk = os.read(SPEC_FD, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(SPEC_FD)
    data = b"".join(chunks)
    chunks.clear()
    fields, files, pos = {}, {}, 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        key, _, value = data[pos:end].decode("utf-8").partition(" ")
        pos = end + 1
        if key == "file":
            name, _, size = value.rpartition(" ")
            files[name] = data[pos : pos + int(size)]
            pos += int(size)
        else:
            fields[key] = value
    return fields, files


def write_files(files):
    """The job's sources, written by the job's own uid into its directory (the current one)."""
    for name, content in files.items():
        if "/" in name or name.startswith("."):
            raise ValueError("bad file name " + repr(name))
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            write_all(fd, content)
        finally:
            os.close(fd)


def apply_limits(fields):
    """rlimits from the spec (limit.<name>), set before any candidate code runs; lowering needs no privilege."""
    import resource

    def lower(which, value):
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))

    memory = int(fields["limit.memoryBytes"])
    lower(resource.RLIMIT_AS, memory)
    lower(resource.RLIMIT_DATA, memory)
    lower(resource.RLIMIT_CPU, cpu_limit_s(fields))
    lower(resource.RLIMIT_FSIZE, int(fields["limit.fileBytes"]))
    lower(resource.RLIMIT_NOFILE, int(fields["limit.openFiles"]))
    if os.getuid() != 0 and fields.get("isolated") == "1":
        # Per uid, and the uid is the job's alone: this is what contains a fork bomb.
        lower(resource.RLIMIT_NPROC, int(fields["limit.processes"]))


def cpu_limit_s(fields):
    """RLIMIT_CPU: the wall-clock limit rounded up, plus one (the checker's clock usually ends the job first),
    or `limit.cpuSeconds` when given (the checker's, which its own SIGALRM bounds anyway)."""
    if fields.get("limit.cpuSeconds"):
        return int(fields["limit.cpuSeconds"])
    return -(-int(fields["limit.timeoutMs"]) // 1000) + 1


def now_ms():
    return _perf() * 1000.0


def describe(exc):
    """Traceback text of `exc` without the harness's own frames, tolerant of a misbehaving __str__."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_HARNESS_FRAMES):
        tb = tb.tb_next
    try:
        import traceback

        text = "".join(traceback.format_exception(type(exc), exc, tb))
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break reporting
        text = type(exc).__name__
    return text[-MESSAGE_LIMIT:]


def write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            written = _write(fd, view)
        except InterruptedError:
            continue
        view = view[written:]


_BUILTINS = vars(builtins)
_ORIGINAL_BUILTINS = dict(_BUILTINS)


def restore_builtins():
    """Put back builtins the candidate replaced (in-process suites only); returns what was replaced."""
    replaced = []
    for key, original in _ORIGINAL_BUILTINS.items():
        if key != "_" and (key not in _BUILTINS or _BUILTINS[key] is not original):
            replaced.append("builtins." + key)
            _BUILTINS[key] = original
    return replaced


class Reporter:
    """The checker's reports to the supervisor: streamed test records and the one final record."""

    def __init__(self, integrity_of, candidate_pid=None):
        self.integrity_of = integrity_of
        self.candidate_pid = candidate_pid

    def emit_test(self, name, outcome, duration_ms=None, message=None):
        # Streamed records only help explain a job that never finishes; losing one is harmless.
        try:
            record = {"t": "test", "name": name, "outcome": outcome}
            if duration_ms is not None:
                record["ms"] = duration_ms
            if message:
                record["message"] = message[-MESSAGE_LIMIT:]
            write_all(RESULT_FD, (encode(record) + "\n").encode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001
            pass

    def finish(self, verdict, reason=None, tests=(), message=None, tampered=None, integrity=None, data=None):
        """Write the final record and exit: nothing runs after the verdict. `data`: the runner's own results
        (a dict of plain JSON values, bounded by the runner: the record must fit the result pipe's cap)."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        record = {"t": "final", "verdict": verdict, "tests": _bounded(list(tests))}
        record["integrity"] = integrity or self.integrity_of()
        if reason:
            record["reason"] = reason
        if message:
            record["message"] = message[-MESSAGE_LIMIT:]
        if tampered:
            record["tampered"] = list(tampered)
        if data is not None:
            record["data"] = data
        if verdict != "passed" and self.candidate_pid:
            # What the supervisor needs to tell a real out-of-memory from a candidate that only says so.
            record["candidatePeak"] = _vm_peak(self.candidate_pid)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        try:
            write_all(RESULT_FD, (encode(record) + "\n").encode("utf-8", "replace"))
        finally:
            _exit(0)


TEST_LIMIT = 2000
MESSAGES_BUDGET = 512 * 1024


def _bounded(tests):
    """At most TEST_LIMIT tests (failures kept first when cutting), short names, a bounded total of messages:
    the final record always fits the result pipe's cap."""
    if len(tests) > TEST_LIMIT:
        failing = [t for t in tests if t.get("outcome") != "passed"][:TEST_LIMIT]
        keep = {id(t) for t in failing}
        passing = [t for t in tests if id(t) not in keep][: TEST_LIMIT - len(failing)]
        keep.update(id(t) for t in passing)
        tests = [t for t in tests if id(t) in keep]
    budget, bounded = MESSAGES_BUDGET, []
    for test in tests:
        test = dict(test)
        test["name"] = str(test.get("name", ""))[:500]
        message = test.pop("message", None)
        if isinstance(message, str) and message and budget > 0:
            test["message"] = message[-min(MESSAGE_LIMIT, budget) :]
            budget -= len(test["message"])
        bounded.append(test)
    return bounded


def _vm_peak(pid):
    """Peak virtual memory of a process in bytes (/proc/<pid>/status is readable by every uid), or 0."""
    try:
        with open("/proc/%d/status" % int(pid), "rb") as handle:
            for line in handle:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def print_error(text):
    """Write a traceback to the job's stderr even if the candidate replaced sys.stderr."""
    try:
        write_all(2, (text if text.endswith("\n") else text + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


class Snapshot:
    """Identity snapshot of namespaces a candidate could patch to fake a pass (harness classes, TestCase).

    changes() uses no builtins: the candidate may have replaced them (finish() restores those itself).
    """

    def __init__(self, namespaces):
        # Keep references (not ids): an id could be reused once a patched-out original is freed.
        self._saved = [(label, ns, dict(ns)) for label, ns in namespaces]

    def changes(self):
        changed = []
        for label, ns, saved in self._saved:
            for key, original in saved.items():
                if key == "_":
                    continue
                if key not in ns or ns[key] is not original:
                    changed.append(label + "." + key)
        return changed
