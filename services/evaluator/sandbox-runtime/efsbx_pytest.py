"""pytest runner: runs test_<module>.py with a recording plugin (no junit file to forge).

Used by the checker (the module under test is a proxy) and, for suites that need it, inside the candidate's
process (efsbx_suites). `snapshot` is efsbx_report.Snapshot there, None in the checker (nothing to guard).
"""

import os

# Only our plugin: nothing installed in the image (or planted by a job) may hook into the run.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"

import _pytest.reports  # noqa: E402
import _pytest.runner  # noqa: E402
import pytest  # noqa: E402

import efsbx_report as report  # noqa: E402


def _message(rep):
    try:
        return rep.longreprtext[-report.MESSAGE_LIMIT :]
    except BaseException:  # noqa: BLE001
        return ""


def _crash_starts_with(rep, prefix):
    crash = getattr(rep.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", "")).startswith(prefix)


class Recorder:
    """pytest plugin collecting one outcome per test id: the worst of its setup, call and teardown phases."""

    def __init__(self, emit_test):
        self.emit_test = emit_test
        self.tests = {}
        self.called = set()
        self.finished = set()
        self.collected = 0
        self.collection_errors = []
        self.failed_collectors = []
        self.exited_at_import = False
        self.out_of_memory = False

    def pytest_collectreport(self, report):
        if report.failed:
            text = _message(report)
            self.collection_errors.append(report.nodeid + "\n" + text)
            self.failed_collectors.append({"name": report.nodeid, "outcome": "error", "ms": 0.0, "message": text})
            # The module under test called sys.exit() while the tests imported it.
            self.exited_at_import = self.exited_at_import or _crash_starts_with(report, "SystemExit")

    def pytest_collection_finish(self, session):
        self.collected = len(session.items)

    def interrupted(self):
        """Some collected test never reached its teardown: pytest.exit(), a KeyboardInterrupt, -x."""
        return len(self.finished) < self.collected

    def pytest_runtest_logreport(self, report):
        test = self.tests.setdefault(report.nodeid, {"name": report.nodeid, "outcome": "passed", "ms": 0.0})
        test["ms"] += report.duration * 1000.0
        if report.when == "call":
            self.called.add(report.nodeid)
        if report.failed:
            self.out_of_memory = self.out_of_memory or _crash_starts_with(report, "MemoryError")
            test["outcome"] = "failed" if report.when == "call" else "error"
            test["message"] = _message(report)
        elif report.skipped and test["outcome"] == "passed":
            test["outcome"] = "skipped"
        if report.when == "teardown":
            self.finished.add(report.nodeid)
            if test["outcome"] == "passed" and report.nodeid not in self.called:
                test["outcome"] = "error"  # interrupted between setup and teardown: it never ran
            self.emit_test(test["name"], test["outcome"], test["ms"], test.get("message"))

    def results(self):
        tests = list(self.tests.values())
        for test in tests:
            if test["outcome"] == "passed" and test["name"] not in self.called:
                test["outcome"] = "error"
        return tests


def run_pytest(module, emit_test, finish, snapshot_class, targets=None):
    """A suite's test_<module>.py, or with `targets` (a list) a project's: those paths and node ids, or
    pytest's own discovery from the working directory when empty. A project's collection errors do not stop
    the other tests; each failing collector is listed as a test in error."""
    import efsbx_suites as suites

    project = targets is not None
    recorder = Recorder(emit_test)
    snapshot = None
    if snapshot_class is not None:
        snapshot = snapshot_class(
            [
                ("Recorder", vars(Recorder)),
                ("efsbx_pytest", globals()),
                ("_pytest.runner", vars(_pytest.runner)),
                ("TestReport", vars(_pytest.reports.TestReport)),
            ]
        )
    cwd = os.getcwd()
    # The zygote's children get a fresh environment: say it again before pytest reads it.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = ["-q", "--tb=short", "--rootdir", cwd, "-c", os.devnull, "-p", "no:cacheprovider"]
    if project:
        args += ["--continue-on-collection-errors", *targets]
    else:
        args.insert(0, "test_" + module + ".py")
    try:
        code = pytest.main(args, plugins=[recorder])
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError:
        finish("failed", "memory_error", tests=recorder.results())

    tests = recorder.results()
    if recorder.out_of_memory:
        finish("failed", "memory_error", tests=tests)
    if recorder.exited_at_import:
        finish("failed", "exit_before_checks", tests=tests, message="\n".join(recorder.collection_errors))
    if recorder.collection_errors:
        if project:
            tests = tests + recorder.failed_collectors
        finish("error", "collection_error", tests=tests, message="\n".join(recorder.collection_errors))
    if code == pytest.ExitCode.INTERRUPTED or recorder.interrupted():
        finish("failed", "interrupted", tests=tests)
    if project and code == pytest.ExitCode.USAGE_ERROR:
        # A selected node id or path pytest does not find ("ERROR: not found: ..." on stderr).
        finish("error", "collection_error", tests=tests, message="pytest could not select the tests: " + " ".join(targets)[-2000:])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        finish("error", "harness_error", tests=tests, message="pytest exit code " + str(int(code)))
    suites.finish_suite(tests, snapshot, finish)
