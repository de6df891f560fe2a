"""The baseline's pytest plugin: each test's outcome and duration, and which mutants it reaches.

Coverage is by line, traced with sys.settrace in the project's source files only (the sandbox's Python is
3.11: no sys.monitoring). A mutant is reached by a test when a line of its statement ran during the test
(setup, call and teardown, so fixtures count). Lines that ran before the first test (conftest and test
modules importing the project, module-level code, functions called at import) form the `@collect` entry:
those mutants change what the import does and must be run with a fresh import of the project.
"""

import os
import sys
import threading
import time

COLLECT = "@collect"


class LineTracer:
    """Lines run in the given files, into whichever bucket is current when they run."""

    def __init__(self, paths):
        self.wanted = {os.path.realpath(p): p for p in paths}
        self.names = {}
        self.bucket = {}

    def _file(self, filename):
        known = self.names.get(filename)
        if known is None:
            real = os.path.realpath(filename) if os.path.isabs(filename) else os.path.realpath(os.path.join(os.getcwd(), filename))
            known = self.names[filename] = self.wanted.get(real, "")
        return known

    def _global(self, frame, event, _arg):
        if event != "call":
            return None
        path = self._file(frame.f_code.co_filename)
        if not path:
            return None
        self.bucket.setdefault(path, set()).add(frame.f_lineno)
        return self._local

    def _local(self, frame, event, _arg):
        if event == "line":
            self.bucket.setdefault(self._file(frame.f_code.co_filename), set()).add(frame.f_lineno)
        return self._local

    def start(self):
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self):
        sys.settrace(None)
        threading.settrace(None)

    def take(self):
        bucket, self.bucket = self.bucket, {}
        return bucket


class MutantLines:
    """Which mutants (by index in the job) a set of executed lines reaches."""

    def __init__(self, mutants):
        self.by_line = {}
        for index, mutant in enumerate(mutants):
            first, last = mutant["cover"]
            for line in range(first, last + 1):
                self.by_line.setdefault((mutant["file"], line), []).append(index)

    def reached(self, bucket):
        out = set()
        for path, lines in bucket.items():
            for line in lines:
                out.update(self.by_line.get((path, line), ()))
        return out


def ranges(indexes):
    """`0-4,7,9-12` for {0,1,2,3,4,7,9,10,11,12}."""
    parts, run = [], None
    for i in sorted(indexes):
        if run is not None and i == run[1] + 1:
            run[1] = i
            continue
        if run is not None:
            parts.append(str(run[0]) if run[0] == run[1] else "%d-%d" % tuple(run))
        run = [i, i]
    if run is not None:
        parts.append(str(run[0]) if run[0] == run[1] else "%d-%d" % tuple(run))
    return ",".join(parts)


class Baseline:
    """pytest plugin: outcome, duration and reached mutants per test, in the order the tests ran."""

    def __init__(self, tracer, mutant_lines, started):
        self.tracer = tracer
        self.mutant_lines = mutant_lines
        self.started = started
        self.setup_ms = None
        self.collected = 0
        self.collection_errors = []
        self.tests = {}
        self.order = []
        self.reached = {}
        self.collect_reached = set()

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(report.nodeid + "\n" + _text(report))

    def pytest_collection_finish(self, session):
        self.collected = len(session.items)
        self.setup_ms = (time.perf_counter() - self.started) * 1000.0
        self.collect_reached = self.mutant_lines.reached(self.tracer.take())

    def pytest_runtest_logstart(self, nodeid, location):
        # Whatever ran since the previous test finished belongs to it (rare: hooks between tests).
        self._close()
        self.order.append(nodeid)
        self.tests[nodeid] = {"name": nodeid, "outcome": "passed", "ms": 0.0}

    def pytest_runtest_logreport(self, report):
        test = self.tests.setdefault(report.nodeid, {"name": report.nodeid, "outcome": "passed", "ms": 0.0})
        test["ms"] += report.duration * 1000.0
        if report.failed:
            test["outcome"] = "failed" if report.when == "call" else "error"
            test["message"] = _text(report)
        elif report.skipped and test["outcome"] == "passed":
            test["outcome"] = "skipped"

    def pytest_runtest_logfinish(self, nodeid, location):
        self._close()

    def _close(self):
        if self.order:
            nodeid = self.order[-1]
            self.reached.setdefault(nodeid, set()).update(self.mutant_lines.reached(self.tracer.take()))


def _text(report):
    try:
        return report.longreprtext[-4000:]
    except BaseException:  # noqa: BLE001
        return ""
