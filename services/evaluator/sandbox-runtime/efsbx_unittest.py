"""unittest runner: imports test_<module>, runs its tests with a recording result class.

Used by the checker (the module under test is a proxy) and, for suites that need it, inside the candidate's
process (efsbx_suites). `snapshot_class` is efsbx_report.Snapshot there, None in the checker.
"""

import importlib
import sys
import unittest
import unittest.case

import efsbx_report as report


FAILED_IMPORT = "unittest.loader._FailedTest."


class RecordingResult(unittest.TestResult):
    """One outcome per test id; subtests that fail are recorded under their own id."""

    def __init__(self, emit_test):
        super().__init__()
        self.emit_test = emit_test
        self.records = []
        self.started = {}

    def _record(self, test, outcome, err=None):
        name = test.id()
        if name.startswith(FAILED_IMPORT):
            name = name[len(FAILED_IMPORT) :]  # a module that could not be imported, by its own name
        started = self.started.pop(name, None)
        entry = {"name": name, "outcome": outcome}
        if started is not None:
            entry["ms"] = report.now_ms() - started
        if err is not None:
            try:
                entry["message"] = self._exc_info_to_string(err, test)[-report.MESSAGE_LIMIT :]
            except BaseException:  # noqa: BLE001
                entry["message"] = getattr(err[0], "__name__", "error")
            if isinstance(err[1], MemoryError):
                entry["memory"] = True
        self.records.append(entry)
        self.emit_test(name, outcome, entry.get("ms"), entry.get("message"))

    def startTest(self, test):
        super().startTest(test)
        self.started[test.id()] = report.now_ms()

    def addSuccess(self, test):
        self._record(test, "passed")

    def addFailure(self, test, err):
        self._record(test, "failed", err)

    def addError(self, test, err):
        self._record(test, "error", err)

    def addSkip(self, test, reason):
        self._record(test, "skipped")

    def addExpectedFailure(self, test, err):
        self._record(test, "passed")

    def addUnexpectedSuccess(self, test):
        self._record(test, "failed")

    def addSubTest(self, test, subtest, err):
        if err is not None:
            outcome = "failed" if issubclass(err[0], test.failureException) else "error"
            self._record(subtest, outcome, err)


def run_unittest(module, emit_test, finish, snapshot_class):
    import efsbx_suites as suites

    snapshot = None
    if snapshot_class is not None:
        snapshot = snapshot_class(
            [
                ("TestCase", vars(unittest.case.TestCase)),
                ("RecordingResult", vars(RecordingResult)),
                ("efsbx_unittest", globals()),
            ]
        )
    try:
        tests_module = importlib.import_module("test_" + module)
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError as exc:
        finish("failed", "memory_error", message=report.describe(exc))
    except BaseException as exc:  # noqa: BLE001
        text = report.describe(exc)
        report.print_error(text)
        finish("error", "collection_error", message=text)

    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(tests_module)
    if loader.errors:
        finish("error", "collection_error", message="\n".join(loader.errors))

    result = RecordingResult(emit_test)
    try:
        suite.run(result)
    except SystemExit as exc:
        finish("failed", "exit_before_checks", tests=result.records, message=report.describe(exc))
    except MemoryError:
        finish("failed", "memory_error", tests=result.records)
    tests = result.records
    try:
        sys.stderr.write("Ran %d tests\n" % len(tests))
    except BaseException:  # noqa: BLE001
        pass
    memory_flags = [t.pop("memory", False) for t in tests]
    if any(memory_flags):
        finish("failed", "memory_error", tests=tests)
    suites.finish_suite(tests, snapshot, finish)


def run_project(names, emit_test, finish, snapshot_class):
    """A project's tests: `names` (modules, classes or test ids, `pkg.test_x.TestA.test_b`), or `unittest
    discover` from the working directory (test*.py, in packages). A target that cannot be loaded does not stop
    the others: it is listed as a test in error and the verdict is `error` (collection_error)."""
    import efsbx_suites as suites

    snapshot = None
    if snapshot_class is not None:
        snapshot = snapshot_class(
            [
                ("TestCase", vars(unittest.case.TestCase)),
                ("RecordingResult", vars(RecordingResult)),
                ("efsbx_unittest", globals()),
            ]
        )
    loader = unittest.TestLoader()
    unloadable = []
    try:
        if names:
            suite = unittest.TestSuite()
            for name in names:
                try:
                    suite.addTest(loader.loadTestsFromName(name))
                except (SystemExit, MemoryError):
                    raise
                except BaseException as exc:  # noqa: BLE001 - the module under test failed to import
                    text = report.describe(exc)
                    unloadable.append({"name": name, "outcome": "error", "message": text})
        else:
            suite = loader.discover(".", pattern="test*.py", top_level_dir=".")
    except SystemExit as exc:
        finish("failed", "exit_before_checks", message=report.describe(exc))
    except MemoryError as exc:
        finish("failed", "memory_error", message=report.describe(exc))

    result = RecordingResult(emit_test)
    try:
        suite.run(result)
    except SystemExit as exc:
        finish("failed", "exit_before_checks", tests=result.records, message=report.describe(exc))
    except MemoryError:
        finish("failed", "memory_error", tests=result.records)
    tests = result.records + unloadable
    try:
        sys.stderr.write("Ran %d tests\n" % len(tests))
    except BaseException:  # noqa: BLE001
        pass
    if any([t.pop("memory", False) for t in tests]):
        finish("failed", "memory_error", tests=tests)
    errors = list(loader.errors) + [t["message"] for t in unloadable]
    if errors:
        for text in errors:
            report.print_error(text)
        finish("error", "collection_error", tests=tests, message="\n".join(errors))
    suites.finish_suite(tests, snapshot, finish)
