"""HumanEval and MBPP in the checker, with the verdict meanings of their reference harnesses.

HumanEval (openai/human-eval): program + test + `check(entry_point)`, any exception a failure. Here the
program runs in the candidate's process; the test code and `check` run in the checker with the candidate's
names as values and proxies (efsbx_checker.namespace_for). MBPP: the program, then the setup code, then each
top-level statement of the tests as its own test `test_<i>`, all run even after a failure.
"""

import efsbx_checker as checker
import efsbx_remote as remote_mod
import efsbx_report as report
from efsbx_runners import InvalidJob

# `ast` costs ~10 ms of import; the builtin compiler gives the same trees.
_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST
_CodeType = type(compile("", "", "exec"))


def _outcome_of(exc):
    return "failed" if isinstance(exc, AssertionError) else "error"


def _source(files, name):
    return files.get(name, b"").decode("utf-8", "surrogateescape")


def _trusted(files, namespace, entry_point, reporter):
    """Run dataset code the job marked trusted (the HumanEval prompt) in the checker, before the tests: its
    helpers (`poly`, `encode_cyclic`) are then the checker's own, not whatever the candidate redefined. The
    entry point stays the candidate's."""
    source = _source(files, "trusted.py")
    if not source.strip():
        return
    code, syntax = checker.compile_tests(source, "prompt.py")
    if code is None:
        reporter.finish("error", "tests_syntax_error", message=syntax)
    candidate = namespace.get(entry_point, _MISSING)
    try:
        exec(code, namespace)  # noqa: S102 - dataset code, in the checker
    except remote_mod.CheckerAbort:
        raise
    except BaseException as exc:  # noqa: BLE001
        reporter.finish("error", "tests_error", message=report.describe(exc))
    if candidate is not _MISSING:
        namespace[entry_point] = candidate
    else:
        namespace.pop(entry_point, None)


_MISSING = object()


def run_humaneval(spec, files, remote, reporter):
    entry_point = spec.get("entryPoint") or ""
    check_code, syntax = checker.compile_tests(_source(files, "check.py"), "check.py")
    if check_code is None:
        report.print_error(syntax)
        reporter.finish("error", "tests_syntax_error", message=syntax)

    entries = checker.load_candidate(remote, checker.needed_names(check_code) | {entry_point}, reporter)
    namespace = checker.namespace_for(entries, entry_point)
    _trusted(files, namespace, entry_point, reporter)
    defined = {name for name, _kind, _value in entries}
    try:
        exec(check_code, namespace)  # noqa: S102 - the dataset's test code, in the checker
        if remote.fatal is not None:
            raise remote.fatal
    except remote_mod.CheckerAbort:
        raise
    except BaseException as exc:  # noqa: BLE001
        reporter.finish("error", "tests_error", message=report.describe(exc))

    name = "check(" + entry_point + ")"
    check = namespace.get("check")
    defined_by_tests = {c for c in check_code.co_consts if isinstance(c, _CodeType)}
    if getattr(check, "__code__", None) not in defined_by_tests:
        reporter.finish("error", "tests_error", message="the test code does not define check(candidate)")
    if entry_point not in defined:
        message = "entry point " + repr(entry_point) + " is not defined by the program"
        test = {"name": name, "outcome": "error", "message": message}
        reporter.finish("failed", "entry_point_missing", tests=[test], message=message)

    started = report.now_ms()
    try:
        check(namespace[entry_point])
        if remote.fatal is not None:  # the tests caught it, but the job is over
            raise remote.fatal
    except remote_mod.CheckerAbort as abort:
        test = {"name": name, "outcome": "error", "ms": report.now_ms() - started, "message": abort.message}
        reporter.finish(abort.verdict, abort.reason, tests=[test], message=abort.message)
    except BaseException as exc:  # noqa: BLE001
        text = report.describe(exc)
        report.print_error(text)
        test = {"name": name, "outcome": _outcome_of(exc), "ms": report.now_ms() - started, "message": text}
        reporter.finish("failed", None, tests=[test], message=text)
    reporter.finish("passed", None, tests=[{"name": name, "outcome": "passed", "ms": report.now_ms() - started}])


def _statements(source, filename):
    """Top-level statements of the tests, each compiled on its own; or None and the syntax error text."""
    checker.compile_tests(source, filename)  # registers the source for tracebacks
    try:
        tree = compile(source, filename, "exec", _ONLY_AST, dont_inherit=True)
        module = type(tree)
        return [compile(module([node], []), filename, "exec", dont_inherit=True) for node in tree.body], None
    except (SyntaxError, ValueError) as exc:
        return None, report.describe(exc)


def run_mbpp(spec, files, remote, reporter):
    statements, syntax = _statements(_source(files, "tests.py"), "tests.py")
    if statements is None:
        reporter.finish("error", "tests_syntax_error", message=syntax)
    names = set()
    for statement in statements:
        names |= checker.needed_names(statement)
    entry_point = spec.get("entryPoint") or None
    entries = checker.load_candidate(remote, names, reporter)
    namespace = checker.namespace_for(entries, entry_point)
    if entry_point:
        _trusted(files, namespace, entry_point, reporter)

    tests = []
    for index, statement in enumerate(statements):
        name = "test_" + str(index)
        started = report.now_ms()
        try:
            exec(statement, namespace)  # noqa: S102 - the dataset's assert, in the checker
            if remote.fatal is not None:
                raise remote.fatal
        except remote_mod.CheckerAbort as abort:
            tests.append({"name": name, "outcome": "error", "ms": report.now_ms() - started, "message": abort.message})
            failed_before = any(t["outcome"] != "passed" for t in tests[:-1])
            if abort.verdict == "timeout" and failed_before:
                reporter.finish("failed", "timeout_after_failure", tests=tests, message=abort.message)
            reporter.finish(abort.verdict, abort.reason, tests=tests, message=abort.message)
        except BaseException as exc:  # noqa: BLE001
            text = report.describe(exc)
            report.print_error(text)
            test = {"name": name, "outcome": _outcome_of(exc), "ms": report.now_ms() - started, "message": text}
        else:
            test = {"name": name, "outcome": "passed", "ms": report.now_ms() - started}
        tests.append(test)
        reporter.emit_test(test["name"], test["outcome"], test["ms"], test.get("message"))

    if not tests:
        reporter.finish("error", "no_tests", tests=tests)
    if any(t["outcome"] != "passed" for t in tests):
        reporter.finish("failed", None, tests=tests)
    reporter.finish("passed", None, tests=tests)


# -- the runner table's entry points (efsbx_runners) ------------------------------------------------------
def job_files(job):
    """Supervisor side: (candidate files, checker files, fields, expected number of tests) of a job."""
    runner = job.get("runner")
    code, tests = job.get("code"), job.get("tests")
    if not isinstance(code, str) or not isinstance(tests, str):
        raise InvalidJob("code and tests must be strings")
    fields = {"runner": runner}
    entry = job.get("entryPoint")
    if entry is not None and (not isinstance(entry, str) or not entry.isidentifier()):
        raise InvalidJob("entryPoint must be a Python identifier")
    trusted = job.get("trustedCode") or ""
    if not isinstance(trusted, str):
        raise InvalidJob("trustedCode must be a string")
    checker_files = {"trusted.py": trusted} if trusted.strip() else {}
    if runner == "humaneval":
        if not entry:
            raise InvalidJob("humaneval needs entryPoint, a Python identifier")
        fields["entryPoint"] = entry
        return {"solution.py": code}, dict(checker_files, **{"check.py": tests}), fields, 1
    setup = job.get("setupCode") or ""
    if not isinstance(setup, str):
        raise InvalidJob("setupCode must be a string")
    if entry:
        fields["entryPoint"] = entry
    candidate = {"solution.py": code}
    if setup.strip():
        candidate["setup_code.py"] = setup  # runs after the program, as MBPP's own harness does
    return candidate, dict(checker_files, **{"tests.py": tests}), fields, _statement_count(tests)


def _statement_count(source):
    try:
        return len(compile(source, "tests.py", "exec", _ONLY_AST, dont_inherit=True).body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the checker reports tests_syntax_error


def check(spec, files, remote, reporter, _in_process):
    if spec.get("runner") == "humaneval":
        run_humaneval(spec, files, remote, reporter)
    else:
        run_mbpp(spec, files, remote, reporter)


def load(server, spec):
    """Candidate side: the program runs before the checker asks for its names."""
    server.load(spec)
