"""Runner side of the completion protocol: the only way a job can claim that its checks ran to the end.

The supervisor hands the runner a per-job nonce through an inherited pipe (fd 3) that the runner drains and
closes before any candidate code runs; the nonce is never in argv, the environment or a file. Results go to a
second inherited pipe (fd 4). A `final` record counts only when it carries the nonce, so a candidate that
exits early (sys.exit, os._exit, a signal, raising SystemExit), prints a fake result or writes to fd 4 cannot
produce a passing verdict. The nonce lives only in a closure of this module; code that deliberately searches
the interpreter's memory could find it, which is the residual risk documented in the sandbox README.

Every primitive used to report is captured at import time, before candidate code can monkeypatch os, json,
traceback or builtins. Module names carry the `efsbx_` prefix so they never collide with a job's modules.
"""

import builtins
import json
import os
import sys
import time
import traceback

SPEC_FD = 3
RESULT_FD = 4
MESSAGE_LIMIT = 4000
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

_write = os.write
_exit = os._exit
_dumps = json.dumps
_perf = time.perf_counter
_format_exception = traceback.format_exception


def read_spec():
    """Drain and close the spec pipe (nonce + job fields) before any untrusted code exists."""
    chunks = []
    while True:
        chunk = os.read(SPEC_FD, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(SPEC_FD)
    spec = json.loads(b"".join(chunks))
    chunks.clear()
    return spec


def now_ms():
    return _perf() * 1000.0


def describe(exc):
    """Traceback text of `exc` without the harness's own frames, tolerant of a misbehaving __str__."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_RUNTIME_DIR):
        tb = tb.tb_next
    try:
        text = "".join(_format_exception(type(exc), exc, tb))
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
        record = {"t": "test", "name": name, "outcome": outcome}
        if duration_ms is not None:
            record["ms"] = round(duration_ms, 3)
        if message:
            record["message"] = message[-MESSAGE_LIMIT:]
        try:
            _write_all(RESULT_FD, (_dumps(record) + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    def finish(verdict, reason=None, tests=(), message=None, tampered=None):
        # Serialising needs working builtins (json calls isinstance): put back any the candidate replaced.
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
            _write_all(RESULT_FD, (_dumps(record) + "\n").encode("utf-8", "replace"))
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
