"""What the pytest and unittest runners share: syntax pre-checks and the suite verdict."""

import efsbx_report as report


def _syntax_error(path):
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return report.describe(exc)
    return None


def check_syntax(module, test_file, finish):
    """A syntax error in the module is the candidate's (syntax_error); one in the tests is the dataset's."""
    error = _syntax_error(module + ".py")
    if error:
        report.print_error(error)
        finish("error", "syntax_error", message=error)
    error = _syntax_error(test_file)
    if error:
        report.print_error(error)
        finish("error", "tests_syntax_error", message=error)


def finish_suite(tests, snapshot, finish):
    """All tests passed and at least one ran -> passed."""
    if not tests:
        finish("error", "no_tests", tests=tests)
    if any(t["outcome"] in ("failed", "error") for t in tests):
        finish("failed", None, tests=tests)
    if all(t["outcome"] == "skipped" for t in tests):
        finish("failed", "all_skipped", tests=tests)
    tampered = snapshot.changes()
    if tampered:
        finish("failed", "tampered", tests=tests, tampered=tampered)
    finish("passed", None, tests=tests)
