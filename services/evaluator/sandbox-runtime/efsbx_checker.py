"""The trusted checker: runs the tests and decides the verdict. The candidate cannot reach it.

Forked by the zygote as the checker's own uid (never a job's), non-dumpable, in a private directory no job
can enter. It reads its spec (fd 3: runner, tests, limits), talks to the candidate over fds 5 (requests)
and 6 (replies), and reports to the supervisor on fd 4. It never imports, executes or unpickles anything
of the candidate's: the candidate's top-level names become plain values or proxies (efsbx_remote).

Which of the candidate's names the tests see: only those the test code mentions and does not define
itself. A name that is a builtin (`abs`, `range`) or a standard-library module (`math`, `random`) is always
the checker's own, so the candidate cannot shadow what the tests rely on; the entry point is the one
exception (it is the candidate's by definition). A module the candidate imported under another name is
imported again here, from the checker's own path (never the job's directory).
"""

import builtins
import importlib
import linecache
import os
import sys
import time

import efsbx_remote as remote_mod
import efsbx_report as report
import efsbx_runners as runners

BUILTIN_NAMES = frozenset(vars(builtins))
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
_CodeType = type(compile("", "", "exec"))
LOAD_VERDICTS = {
    "syntax_error": "error",
    "import_error": "error",
    "name_error": "error",
    "setup_error": "error",
    "module_exception": "failed",
    "memory_error": "failed",
}


def needed_names(code):
    """Every global name a compiled test (and the functions and classes it defines) may look up."""
    names, pending = set(), [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending.extend(c for c in current.co_consts if isinstance(c, _CodeType))
    return names


def compile_tests(source, filename):
    """Compiled test code, or (None, syntax error text). The source is kept for tracebacks."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        return compile(source, filename, "exec", dont_inherit=True), None
    except (SyntaxError, ValueError) as exc:
        return None, report.describe(exc)


def load_candidate(remote, names, reporter):
    """The candidate's load outcome; on failure finish with its verdict. Returns [(name, kind, value)]."""
    outcome = remote.request("load", sorted(names))
    if type(outcome) is not tuple or not outcome or outcome[0] not in ("loaded", "failed"):
        reporter.finish("failed", "bad_reply", message="malformed load outcome from the candidate")
    if outcome[0] == "failed":
        reason = outcome[1] if len(outcome) > 1 and outcome[1] in LOAD_VERDICTS else "module_exception"
        text = outcome[2] if len(outcome) > 2 and type(outcome[2]) is str else ""
        reporter.finish(LOAD_VERDICTS[reason], reason, message=text)
    entries = outcome[1] if len(outcome) > 1 else None
    if type(entries) is not list or not all(type(e) is tuple and len(e) == 3 and type(e[0]) is str for e in entries):
        reporter.finish("failed", "bad_reply", message="malformed load outcome from the candidate")
    return entries


def namespace_for(entries, entry_point):
    """The tests' globals: the candidate's values and proxies, minus what would shadow the checker's own."""
    namespace = {}
    for name, kind, value in entries:
        if name != entry_point and (name in BUILTIN_NAMES or name in STDLIB):
            if name in STDLIB and name not in BUILTIN_NAMES:
                module = _own_module(name)
                if module is not None:
                    namespace[name] = module
            continue
        if kind == "module":
            module = _own_module(value) if type(value) is str else None
            if module is not None:
                namespace[name] = module
        elif kind == "value":
            namespace[name] = value
    return namespace


def _own_module(name):
    if not name or name.startswith(("efsbx_", "zygote", "supervisor")):
        return None
    try:
        return importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - an unknown or broken module: the name stays undefined
        return None


def main():
    """Entry point in the forked checker process."""
    spec, files = report.read_spec()
    started = time.monotonic()
    report.apply_limits(spec)
    sys.dont_write_bytecode = True
    timeout_s = int(spec["limit.timeoutMs"]) / 1000.0
    call_s = int(spec.get("limit.callTimeoutMs") or spec["limit.timeoutMs"]) / 1000.0
    remote = remote_mod.install(5, 6, started + timeout_s, call_s)
    in_process = []
    reporter = report.Reporter(
        lambda: "in-process" if in_process else ("handle" if remote.handle_semantics else "checker"),
        candidate_pid=int(spec.get("candidatePid") or 0),
    )
    kind = spec.get("runner")
    try:
        module = runners.module_for(kind)
        if module is None:
            reporter.finish("error", "invalid_job", message="unknown runner " + repr(kind))
        module.check(spec, files, remote, reporter, in_process)
        reporter.finish("error", "harness_error", message="the checker returned without a verdict")
    except remote_mod.CheckerAbort as abort:
        reporter.finish(abort.verdict, abort.reason, message=abort.message)
    except MemoryError:
        reporter.finish("failed", "bad_reply", message="the checker ran out of memory on the candidate's data")
    except BaseException as exc:  # noqa: BLE001 - the checker's own failure
        reporter.finish("error", "harness_error", message=report.describe(exc))
    finally:
        os._exit(0)
