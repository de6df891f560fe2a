"""HumanEval and MBPP runners, with the verdict meanings of their reference harnesses.

HumanEval (openai/human-eval): exec(program + test + "check(entry_point)"); any exception is a failure.
We compile the program and the test separately only to tell a syntax error in the candidate (error /
syntax_error) from one in the dataset (error / tests_syntax_error), and report ImportError / NameError while
the program loads as `error`. MBPP: the setup code, the program, then each top-level statement of the tests
(normally one assert per line) as its own test `test_<i>`, all run even after a failure.
"""

import sys

import efsbx_report as report

# `ast` and `types` cost ~10 ms of startup per evaluation; the builtin compiler gives us the same objects.
_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST
_ModuleType = type(sys)
_CodeType = type(compile("", "", "exec"))

LOAD_ERRORS = ((ImportError, "import_error"), (NameError, "name_error"))


def _read(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def _compile(source, filename):
    """Compiled code, or the SyntaxError / ValueError (null bytes) text."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), None
    except (SyntaxError, ValueError) as exc:
        return None, report.describe(exc)


def _module_namespace(name):
    # A real module (not a bare dict) so dataclasses, pickle and typing find the candidate's __module__.
    # __name__ is not "__main__", so `if __name__ == "__main__":` blocks do not run, as in human-eval.
    module = _ModuleType(name)
    sys.modules[name] = module
    return module.__dict__


def _load_program(code, namespace, finish):
    """Exec the candidate's program; on failure call finish (which never returns)."""
    try:
        exec(code, namespace)  # noqa: S102 - the whole point of a sandbox
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError as exc:
        finish("oom", "memory_limit", message=report.describe(exc))
    except BaseException as exc:  # noqa: BLE001
        text = report.describe(exc)
        report.print_error(text)
        for kind, reason in LOAD_ERRORS:
            if isinstance(exc, kind):
                finish("error", reason, message=text)
        finish("failed", "module_exception", message=text)


def _outcome_of(exc):
    return "failed" if isinstance(exc, AssertionError) else "error"


def run_humaneval(spec, emit_test, finish):
    entry_point = spec.get("entryPoint") or ""
    program, syntax = _compile(_read("solution.py"), "solution.py")
    if program is None:
        report.print_error(syntax)
        finish("error", "syntax_error", message=syntax)
    check_code, syntax = _compile(_read("check.py"), "check.py")
    if check_code is None:
        report.print_error(syntax)
        finish("error", "tests_syntax_error", message=syntax)

    namespace = _module_namespace("solution")
    _load_program(program, namespace, finish)
    try:
        exec(check_code, namespace)  # noqa: S102
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError as exc:
        finish("oom", "memory_limit", message=report.describe(exc))
    except BaseException as exc:  # noqa: BLE001
        finish("error", "tests_error", message=report.describe(exc))

    name = "check(" + entry_point + ")"
    check = namespace.get("check")
    defined_by_tests = {c for c in check_code.co_consts if isinstance(c, _CodeType)}
    if getattr(check, "__code__", None) not in defined_by_tests:
        finish("error", "tests_error", message="the test code does not define check(candidate)")
    if entry_point not in namespace:
        message = "entry point " + repr(entry_point) + " is not defined by the program"
        test = {"name": name, "outcome": "error", "message": message}
        finish("failed", "entry_point_missing", tests=[test], message=message)

    started = report.now_ms()
    try:
        check(namespace[entry_point])
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError as exc:
        elapsed = report.now_ms() - started
        test = {"name": name, "outcome": "error", "ms": elapsed, "message": "MemoryError"}
        finish("oom", "memory_limit", tests=[test])
    except BaseException as exc:  # noqa: BLE001
        text = report.describe(exc)
        report.print_error(text)
        test = {"name": name, "outcome": _outcome_of(exc), "ms": report.now_ms() - started, "message": text}
        finish("failed", None, tests=[test], message=text)
    # finish() refuses a pass if the candidate replaced builtins (see efsbx_report).
    finish("passed", None, tests=[{"name": name, "outcome": "passed", "ms": report.now_ms() - started}])


def _statements(source, filename):
    """Top-level statements of the tests, each compiled on its own; or None and the syntax error text."""
    try:
        tree = compile(source, filename, "exec", _ONLY_AST, dont_inherit=True)
        module = type(tree)
        return [compile(module([node], []), filename, "exec", dont_inherit=True) for node in tree.body], None
    except (SyntaxError, ValueError) as exc:
        return None, report.describe(exc)


def run_mbpp(spec, emit_test, finish):
    setup, syntax = _compile(_read("setup_code.py"), "setup_code.py")
    if setup is None:
        finish("error", "tests_syntax_error", message=syntax)
    program, syntax = _compile(_read("solution.py"), "solution.py")
    if program is None:
        report.print_error(syntax)
        finish("error", "syntax_error", message=syntax)
    statements, syntax = _statements(_read("tests.py"), "tests.py")
    if statements is None:
        finish("error", "tests_syntax_error", message=syntax)

    namespace = _module_namespace("solution")
    try:
        exec(setup, namespace)  # noqa: S102
    except BaseException as exc:  # noqa: BLE001
        finish("error", "setup_error", message=report.describe(exc))
    _load_program(program, namespace, finish)

    tests = []
    out_of_memory = False
    for index, statement in enumerate(statements):
        name = "test_" + str(index)
        started = report.now_ms()
        try:
            exec(statement, namespace)  # noqa: S102
        except SystemExit as exc:
            finish("failed", "exit_before_checks", tests=tests, message=report.describe(exc))
        except BaseException as exc:  # noqa: BLE001
            out_of_memory = out_of_memory or isinstance(exc, MemoryError)
            text = report.describe(exc)
            report.print_error(text)
            test = {"name": name, "outcome": _outcome_of(exc), "ms": report.now_ms() - started, "message": text}
        else:
            test = {"name": name, "outcome": "passed", "ms": report.now_ms() - started}
        tests.append(test)
        emit_test(test["name"], test["outcome"], test["ms"], test.get("message"))

    if out_of_memory:
        finish("oom", "memory_limit", tests=tests)
    if not tests:
        finish("error", "no_tests", tests=tests)
    if any(t["outcome"] != "passed" for t in tests):
        finish("failed", None, tests=tests)
    finish("passed", None, tests=tests)
