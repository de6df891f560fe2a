"""Runner side of the completion protocol: the only way a job can claim that its checks ran to the end.

The supervisor hands the runner a per-job nonce through an inherited pipe (fd 3) that the runner drains and
closes before any candidate code runs; the nonce is never in argv, the environment or a file. Results go to a
second inherited pipe (fd 4). A `final` record counts only when it carries the nonce, so a candidate that
exits early (sys.exit, os._exit, a signal, raising SystemExit), prints a fake result or writes to fd 4 cannot
produce a passing verdict. The nonce lives only in a closure of this module; code that deliberately searches
the interpreter's memory could find it, which is the residual risk documented in the sandbox README.

Every primitive used to report is captured at import time, before candidate code can monkeypatch os or
builtins. Startup cost matters (it is paid once per evaluation): no json, re or traceback at import; records
are encoded by the small encoder below, and traceback is imported only to describe a failure. Module names
carry the `efsbx_` prefix so they never collide with a job's modules.
"""

import builtins
import os
import sys
import time

SPEC_FD = 3
RESULT_FD = 4
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
    """Drain and close the spec pipe before any untrusted code exists: (fields, files).

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
            _write_all(fd, content)
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
    # CPU seconds: the wall-clock limit rounded up, plus one; the supervisor's wall clock usually fires first.
    lower(resource.RLIMIT_CPU, -(-int(fields["limit.timeoutMs"]) // 1000) + 1)
    lower(resource.RLIMIT_FSIZE, int(fields["limit.fileBytes"]))
    lower(resource.RLIMIT_NOFILE, int(fields["limit.openFiles"]))
    if os.getuid() != 0 and fields.get("isolated") == "1":
        # Per uid, and the uid is the job's alone: this is what contains a fork bomb.
        lower(resource.RLIMIT_NPROC, int(fields["limit.processes"]))


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


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            written = _write(fd, view)
        except InterruptedError:
            continue
        view = view[written:]


_BUILTINS = vars(builtins)
_ORIGINAL_BUILTINS = dict(_BUILTINS)


def _restore_builtins():
    replaced = []
    for key, original in _ORIGINAL_BUILTINS.items():
        if key != "_" and (key not in _BUILTINS or _BUILTINS[key] is not original):
            replaced.append("builtins." + key)
            _BUILTINS[key] = original
    return replaced


def make_reporter(nonce):
    """Return (emit_test, finish). The nonce is reachable only through finish's closure."""

    def emit_test(name, outcome, duration_ms=None, message=None):
        # Streamed records only help explain a job that never finishes; losing one is harmless.
        try:
            record = {"t": "test", "name": name, "outcome": outcome}
            if duration_ms is not None:
                record["ms"] = duration_ms
            if message:
                record["message"] = message[-MESSAGE_LIMIT:]
            _write_all(RESULT_FD, (encode(record) + "\n").encode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001
            pass

    def finish(verdict, reason=None, tests=(), message=None, tampered=None):
        # Reporting must not run candidate replacements of builtins: put back any the candidate replaced.
        replaced = _restore_builtins()
        if replaced and verdict == "passed":
            verdict, reason, tampered = "failed", "tampered", replaced
        record = {"t": "final", "nonce": nonce, "verdict": verdict, "tests": list(tests)}
        if reason:
            record["reason"] = reason
        if message:
            record["message"] = message[-MESSAGE_LIMIT:]
        if tampered:
            record["tampered"] = tampered
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the candidate may have replaced the streams
                pass
        try:
            _write_all(RESULT_FD, (encode(record) + "\n").encode("utf-8", "replace"))
        finally:
            # Skip interpreter shutdown: candidate atexit hooks and finalizers must not run after the verdict.
            _exit(0)

    return emit_test, finish


def print_error(text):
    """Write a traceback to the job's stderr even if the candidate replaced sys.stderr."""
    try:
        _write_all(2, (text if text.endswith("\n") else text + "\n").encode("utf-8", "replace"))
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
