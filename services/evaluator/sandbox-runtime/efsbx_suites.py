"""pytest and unittest suites: in the checker with the module under test as a proxy, or, when the tests
need the module in their own process, inside the candidate's process (integrity "in-process").

Proxy mode (the default): the checker imports `<module>` through a meta-path hook that returns a proxy
module; `from solution import add` gives a proxy whose calls run in the candidate's process, exactly as the
HumanEval and MBPP checks do. The verdict is the checker's (integrity "checker", or "handle").

Which suites cannot work that way is decided from the test source alone, before any candidate code runs
(so the candidate cannot choose): tests that patch or mock, capture the candidate's output, share files or
temporary directories with it, subclass or type-compare its classes, use threads or asyncio, and similar.
Those run in the candidate's process with the recording harness of efsbx_pytest / efsbx_unittest; the
result comes back through the call channel bound to a nonce and is marked "in-process": code written to
search its own interpreter for that nonce could forge it there (see SECURITY.md).
"""

import hmac
import importlib.abc
import importlib.util
import os
import re
import secrets
import sys

import efsbx_remote as remote_mod
import efsbx_report as report
from efsbx_runners import InvalidJob

# Names in the tests that mean "this suite needs the module in its own process".
IN_PROCESS_MARKERS = frozenset(
    """monkeypatch mock patch Mock MagicMock AsyncMock capsys capsysbinary capfd capfdbinary caplog
    tmp_path tmpdir tmp_path_factory tmpdir_factory redirect_stdout redirect_stderr reload modules
    inspect pickle open tempfile subprocess threading Thread concurrent multiprocessing asyncio
    dataclasses asdict astuple fields setrecursionlimit environ chdir getcwd exec eval globals
    __class__ weakref gc signal Path StringIO BytesIO io builtins getrefcount""".split()
)
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
VERDICTS = ("passed", "failed", "error")
OUTCOMES = ("passed", "failed", "error", "skipped")


def needs_in_process(source, module):
    """Why the suite must run in the candidate's process, or None (decided from the test source only)."""
    import ast

    tree = ast.parse(source)
    imported, aliases = set(), {module}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            imported.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            aliases.update(a.asname or a.name for a in node.names if a.name == module)

    def from_module(expr):
        if isinstance(expr, ast.Name):
            return expr.id in imported or expr.id in aliases
        return isinstance(expr, ast.Attribute) and from_module(expr.value)

    for node in ast.walk(tree):
        if isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncWith, ast.AsyncFor)):
            return "async code"
        if isinstance(node, ast.Name) and node.id in IN_PROCESS_MARKERS:
            return node.id
        if isinstance(node, ast.Attribute) and node.attr in IN_PROCESS_MARKERS:
            return node.attr
        if isinstance(node, ast.alias) and node.name.split(".")[0] in IN_PROCESS_MARKERS:
            return node.name
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in IN_PROCESS_MARKERS:
            return node.module
        if isinstance(node, ast.ImportFrom) and node.module == module and any(a.name == "*" for a in node.names):
            continue
        if isinstance(node, ast.ClassDef) and any(from_module(base) for base in node.bases):
            return "subclasses a class of the module"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            typed = any(isinstance(o, ast.Call) and getattr(o.func, "id", None) == "type" for o in operands)
            if typed and any(from_module(o) for o in operands):
                return "compares type() with a class of the module"
    return None


class _ProxyModule(type(sys)):
    """The module under test, seen from the checker: attribute reads and writes go to the candidate."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self.__dict__["_efsbx_module"], name)

    def __setattr__(self, name, value):
        if name.startswith("__") and name.endswith("__"):
            super().__setattr__(name, value)
        else:
            setattr(self.__dict__["_efsbx_module"], name, value)


class _ProxyFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, remote, name):
        self.remote = remote
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        reply = self.remote.request("import", self.name)
        if type(reply) is not tuple or len(reply) != 2 or type(reply[0]) is not remote_mod.Handle:
            raise self.remote.abort("failed", "bad_reply", "malformed import reply from the candidate")
        handle, public = reply
        module = _ProxyModule(self.name)
        module.__dict__["_efsbx_module"] = handle
        if type(public) is list and all(type(n) is str for n in public):
            # `from solution import *` must not replace what the tests rely on (`pytest`, `abs`, `math`).
            module.__dict__["__all__"] = [n for n in public if not _reserved(n)]
        return module

    def exec_module(self, module):
        return None


def _reserved(name):
    import efsbx_checker as checker

    return (
        not name.isidentifier()
        or name.startswith("_")
        or name in checker.BUILTIN_NAMES
        or name in checker.STDLIB
        or name in ("pytest", "unittest", "mock")
    )


def run_suite(spec, files, remote, reporter, in_process):
    module = spec["moduleName"]
    test_file = "test_" + module + ".py"
    source = files.get(test_file, b"")
    try:
        compile(source, test_file, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        text = report.describe(exc)
        report.print_error(text)
        reporter.finish("error", "tests_syntax_error", message=text)
    error = remote.request("syntax", module)
    if error is not None:
        reporter.finish("error", "syntax_error", message=str(error)[-report.MESSAGE_LIMIT :])

    why = needs_in_process(source.decode("utf-8", "surrogateescape"), module)
    if why is not None:
        in_process.append(why)
        _run_in_candidate(spec, source, remote, reporter)

    with open(test_file, "wb") as handle:
        handle.write(source)
    sys.path.insert(0, os.getcwd())
    sys.meta_path.insert(0, _ProxyFinder(remote, module))
    if spec["runner"] == "pytest":
        import efsbx_pytest

        efsbx_pytest.run_pytest(module, reporter.emit_test, _finisher(remote, reporter), None)
    else:
        import efsbx_unittest

        efsbx_unittest.run_unittest(module, reporter.emit_test, _finisher(remote, reporter), None)


def _finisher(remote, reporter):
    """finish() for a proxy run: a timeout or lost candidate the tests swallowed still ends the job."""

    def finish(verdict, reason=None, tests=(), message=None, tampered=None):
        if remote.fatal is not None:
            fatal = remote.fatal
            reporter.finish(fatal.verdict, fatal.reason, tests=tests, message=fatal.message)
        reporter.finish(verdict, reason, tests=tests, message=message, tampered=tampered)

    return finish


def _run_in_candidate(spec, source, remote, reporter):
    relay_in_process(remote, reporter, spec["runner"], spec["runner"], spec["moduleName"], source)


def relay_in_process(remote, reporter, runner, *args, relayed=None):
    """Checker side of an in-process run: ask the candidate to run it (the runner's `in_process`), stream its
    test records to the supervisor, and finish with its report if the report carries our nonce."""
    nonce = secrets.token_hex(16)
    relayed = [] if relayed is None else relayed

    def on_test(record):
        test = _clean_test(record)
        if test:
            relayed.append(test)
            reporter.emit_test(test["name"], test["outcome"], test.get("ms"), test.get("message"))

    remote.on_test = on_test
    reply = remote.request("in_process", runner, nonce, *args)
    if (
        type(reply) is not tuple
        or len(reply) != 6
        or type(reply[0]) is not str
        or not hmac.compare_digest(reply[0].encode(), nonce.encode())
    ):
        reporter.finish("failed", "forged_report", message="the in-process suite's report is not genuine")
    _nonce, verdict, reason, tests, message, tampered = reply
    tests = [_clean_test(t) for t in tests] if type(tests) is list else []
    reason = reason if type(reason) is str else None
    message = message if type(message) is str else None
    if verdict not in VERDICTS:
        # The in-process harness may say "oom"; only the supervisor's memory counters may.
        verdict, reason = "failed", "memory_error" if verdict == "oom" else "harness_error"
    tampered = [str(t) for t in tampered] if type(tampered) is list else None
    reporter.finish(verdict, reason, tests=[t for t in tests if t], message=message, tampered=tampered)


def _clean_test(record):
    if type(record) is not dict or record.get("outcome") not in OUTCOMES or type(record.get("name")) is not str:
        return None
    test = {"name": record["name"][:500], "outcome": record["outcome"]}
    if type(record.get("ms")) is float and 0 <= record["ms"] < 1e9:
        test["ms"] = record["ms"]
    if type(record.get("message")) is str:
        test["message"] = record["message"][-report.MESSAGE_LIMIT :]
    return test


# -- the candidate's side of an in-process suite --------------------------------------------------------
def in_process(server, nonce, kind, module, source):
    """Runs in the candidate's process: the suite with the recording harness; the reply carries the nonce."""
    test_file = "test_" + module + ".py"
    with open(test_file, "wb") as handle:
        handle.write(source)

    def run(emit_test, finish):
        if kind == "pytest":
            import efsbx_pytest

            efsbx_pytest.run_pytest(module, emit_test, finish, report.Snapshot)
        else:
            import efsbx_unittest

            efsbx_unittest.run_unittest(module, emit_test, finish, report.Snapshot)

    serve_in_process(server, nonce, run)


def serve_in_process(server, nonce, run):
    """Candidate side: run(emit_test, finish) streams test records and ends with one report bound to `nonce`."""
    import efsbx_candidate as candidate

    def emit_test(name, outcome, duration_ms=None, message=None):
        record = {"name": name, "outcome": outcome}
        if duration_ms is not None:
            record["ms"] = float(duration_ms)
        if message:
            record["message"] = message[-report.MESSAGE_LIMIT :]
        try:
            server.send(("test", record))
        except BaseException:  # noqa: BLE001
            pass

    def finish(verdict, reason=None, tests=(), message=None, tampered=None):
        replaced = report.restore_builtins()
        if replaced and verdict == "passed":
            verdict, reason, tampered = "failed", "tampered", replaced
        server.send(("ok", (nonce, verdict, reason, list(tests), message, tampered)))
        candidate._leave(0)

    run(emit_test, finish)
    finish("error", "harness_error", message="the suite returned without a verdict")


# -- the runner table's entry points (efsbx_runners) ------------------------------------------------------
def job_files(job):
    """Supervisor side: the module under test for the candidate, the test file for the checker."""
    code, tests = job.get("code"), job.get("tests")
    if not isinstance(code, str) or not isinstance(tests, str):
        raise InvalidJob("code and tests must be strings")
    module = job.get("moduleName") or "solution"
    if not isinstance(module, str) or not MODULE_NAME.match(module) or module.startswith("efsbx_"):
        raise InvalidJob("moduleName must be a Python identifier not starting with efsbx_")
    fields = {"runner": job.get("runner"), "moduleName": module}
    return {module + ".py": code}, {"test_" + module + ".py": tests}, fields, None


def check(spec, files, remote, reporter, in_process_reasons):
    run_suite(spec, files, remote, reporter, in_process_reasons)


def finish_suite(tests, snapshot, finish):
    """All tests passed and at least one ran -> passed."""
    if not tests:
        finish("error", "no_tests", tests=tests)
    if any(t["outcome"] in ("failed", "error") for t in tests):
        finish("failed", None, tests=tests)
    if all(t["outcome"] == "skipped" for t in tests):
        finish("failed", "all_skipped", tests=tests)
    tampered = snapshot.changes() if snapshot is not None else None
    if tampered:
        finish("failed", "tampered", tests=tests, tampered=tampered)
    finish("passed", None, tests=tests)
