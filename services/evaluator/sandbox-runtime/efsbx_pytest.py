"""pytest runner: runs test_<module>.py in-process with a recording plugin (no junit file to forge)."""

import os

# Only our plugin: nothing installed in the image (or planted by a job) may hook into the run.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"

import _pytest.reports  # noqa: E402
import _pytest.runner  # noqa: E402
import pytest  # noqa: E402

import efsbx_report as report  # noqa: E402
import efsbx_suites as suites  # noqa: E402


def _message(rep):
    try:
        return rep.longreprtext[-report.MESSAGE_LIMIT :]
    except BaseException:  # noqa: BLE001
        return ""


def _is_memory_error(rep):
    crash = getattr(rep.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", "")).startswith("MemoryError")


class Recorder:
    """pytest plugin collecting one outcome per test id: the worst of its setup, call and teardown phases."""

    def __init__(self, emit_test):
        self.emit_test = emit_test
        self.tests = {}
        self.collection_errors = []
        self.out_of_memory = False

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(report.nodeid + "\n" + _message(report))

    def pytest_runtest_logreport(self, report):
        test = self.tests.setdefault(report.nodeid, {"name": report.nodeid, "outcome": "passed", "ms": 0.0})
        test["ms"] += report.duration * 1000.0
        if report.failed:
            self.out_of_memory = self.out_of_memory or _is_memory_error(report)
            test["outcome"] = "failed" if report.when == "call" else "error"
            test["message"] = _message(report)
        elif report.skipped and test["outcome"] == "passed":
            test["outcome"] = "skipped"
        if report.when == "teardown":
            self.emit_test(test["name"], test["outcome"], test["ms"], test.get("message"))


def run_pytest(spec, emit_test, finish):
    module = spec["moduleName"]
    test_file = "test_" + module + ".py"
    suites.check_syntax(module, test_file, finish)

    recorder = Recorder(emit_test)
    snapshot = report.Snapshot(
        [
            ("Recorder", vars(Recorder)),
            ("efsbx_pytest", globals()),
            ("_pytest.runner", vars(_pytest.runner)),
            ("TestReport", vars(_pytest.reports.TestReport)),
        ]
    )
    cwd = os.getcwd()
    args = [test_file, "-q", "--tb=short", "--rootdir", cwd, "-c", os.devnull, "-p", "no:cacheprovider"]
    try:
        code = pytest.main(args, plugins=[recorder])
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError:
        finish("oom", "memory_limit", tests=list(recorder.tests.values()))

    tests = list(recorder.tests.values())
    if recorder.out_of_memory:
        finish("oom", "memory_limit", tests=tests)
    if recorder.collection_errors:
        finish("error", "collection_error", tests=tests, message="\n".join(recorder.collection_errors))
    if code == pytest.ExitCode.INTERRUPTED:
        finish("failed", "interrupted", tests=tests)
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        finish("error", "harness_error", tests=tests, message="pytest exit code " + str(int(code)))
    suites.finish_suite(tests, snapshot, finish)
