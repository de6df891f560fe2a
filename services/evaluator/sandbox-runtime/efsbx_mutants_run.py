"""The job's side of a mutation job (the job's uid, in its directory): the baseline, or a batch of mutants.

Baseline: pytest runs the whole suite once, as `python -m pytest <test files>` would, while LineTracer records
which mutants each test reaches (efsbx_mutants_cov).

A batch, without importing the project again per mutant:
  R (this process: pytest imported, the project not)
  ├─ C, the collector: pytest collects once (imports the project), then for each mutant that a function's
  │  code can carry (efsbx_mutants_swap) forks
  │  └─ M: re-points the live functions to the mutated code, runs the mutant's tests, reports, _exits
  └─ F, per mutant whose change runs at import (module level, class bodies, defaults, functions called at
     import): serves the mutated file to the import system and runs pytest from scratch.
Each mutant's tests run in collection order and stop at the first failure: every test from the first one
that reached it in the baseline on. Tests before that one cannot tell the mutant from the original, and a
test after it that never ran the mutated lines may still see what they left behind (a cache, a module
global), so the verdict is the one a full pytest run of the mutant gives. When that tail is much longer than
the tests that reached the mutant, those run first in a fork of their own, so a killed mutant is found
quickly; if they all pass, the tail runs in a fresh fork.

Budgets: a phase may take max(floor, factor x the baseline time of its tests) (F also factor x the
baseline's collection time); past that it is killed by process group: `timeout`. RLIMIT_CPU backs it up.
"""

import gc
import json
import mmap
import os
import resource
import select
import signal
import struct
import time

import efsbx_mutants_cov as cov
import efsbx_mutants_fs as fs
import efsbx_mutants_swap as swap

CRASH_RESTARTS = 3
FORK_SLACK_MS = 250.0
# Below this, one fork over the whole tail beats two (reaching tests, then the tail).
TWO_PHASE_RATIO = 10.0
TWO_PHASE_MS = 100.0


def pytest_args(plan):
    # Our recorder is the only plugin besides pytest's own: nothing installed may hook in (as for suites).
    return ["-q", "-p", "no:cacheprovider", *plan["testFiles"]]


def _import_pytest():
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    # Our test loop must run before pytest's own (and a conftest's): tryfirst, set once pytest is here
    # (the zygote imports this module, and pytest only when a job needs it).
    for cls in (_Collector, _FreshRunner):
        loop = cls.__dict__["pytest_runtestloop"]
        if not hasattr(loop, "pytest_impl"):
            cls.pytest_runtestloop = pytest.hookimpl(tryfirst=True)(loop)
    return pytest


def _close_channel(keep=()):
    """A process forked from R holds nothing of R's: not the checker's call channel (fds 4, 5), not its
    pipes. Only before pytest runs in it (pytest's capture keeps fds of its own)."""
    for fd in range(3, 64):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# -- baseline -----------------------------------------------------------------------------------------------
def baseline(plan, emit, finish):
    pytest = _import_pytest()
    started = time.perf_counter()
    tracer = cov.LineTracer([m["file"] for m in plan["mutants"]] + list(plan.get("sources", [])))
    plugin = cov.Baseline(tracer, cov.MutantLines(plan["mutants"]), started)
    tracer.start()
    try:
        code = pytest.main(pytest_args(plan), plugins=[plugin])
    except SystemExit as exc:
        code = exc.code
    finally:
        tracer.stop()
    total_ms = (time.perf_counter() - started) * 1000.0
    tests = [
        {
            "name": cov.COLLECT,
            "outcome": "passed",
            "ms": plugin.setup_ms or total_ms,
            "message": "c:" + cov.ranges(plugin.collect_reached),
        }
    ]
    for nodeid in plugin.order:
        test = dict(plugin.tests[nodeid])
        if test["outcome"] in ("passed", "skipped"):
            test["message"] = "c:" + cov.ranges(plugin.reached.get(nodeid, ()))
        tests.append(test)
        emit(test["name"], test["outcome"], test["ms"], None)
    if plugin.collection_errors:
        finish("failed", "collection_error", tests=tests, message="\n".join(plugin.collection_errors))
    if not plugin.order:
        finish("failed", "no_tests", tests=tests, message="pytest collected no tests (exit code %s)" % code)
    failing = [t["name"] for t in tests[1:] if t["outcome"] in ("failed", "error")]
    if failing:
        finish("failed", "tests_failed", tests=tests, message="failing: " + ", ".join(failing[:50]))
    if len(plugin.order) < plugin.collected:
        finish("failed", "interrupted", tests=tests, message="the suite stopped before every test ran")
    finish("passed", None, tests=tests, message="collected %d tests" % plugin.collected)


# -- a batch of mutants ---------------------------------------------------------------------------------------
class Budget:
    def __init__(self, plan):
        self.factor = float(plan["factor"])
        self.floor = float(plan["floorMs"])
        self.ms = [float(x) for x in plan["testMs"]]
        self.setup = float(plan["setupMs"])

    def worth_two_phases(self, reaching, tail):
        """Run the reaching tests first (then the tail) only when the tail costs much more than they do."""
        ms = lambda indexes: sum(self.ms[i] for i in indexes)  # noqa: E731
        return ms(tail) > TWO_PHASE_RATIO * ms(reaching) + TWO_PHASE_MS

    def tests(self, indexes, fresh=False):
        work = max(self.floor, self.factor * sum(self.ms[i] for i in indexes))
        return work + (self.factor * self.setup if fresh else 0.0) + FORK_SLACK_MS


def result(mutant, status, started, by=None, ran=0, why=None):
    record = {"s": status, "n": ran}
    if by:
        record["by"] = [by]
    if why:
        record["why"] = why[-1500:]
    return {"name": str(mutant["id"]), "ms": (time.perf_counter() - started) * 1000.0, "detail": record}


def batch(plan, on_start, on_result, finish):
    """Every mutant of the plan, each reported once through on_result as it completes; then finish(records).
    on_start(id) before a mutant that runs in a process of R's own (a fresh import): should it take R down,
    the checker knows which one did."""
    _import_pytest()
    budget = Budget(plan)
    done = {}

    def report(record):
        if record["name"] not in done:
            done[record["name"]] = record
            on_result(record)

    fresh = [m for m in plan["mutants"] if m.get("fresh")]
    fast = [m for m in plan["mutants"] if not m.get("fresh")]
    restarts = 0
    while fast:
        needs_fresh, lost = _collector(plan, fast, budget, report)
        fresh.extend(needs_fresh)
        fast = [m for m in fast if str(m["id"]) not in done and m not in needs_fresh]
        if lost is not None and str(lost["id"]) not in done:
            # The collector died while this mutant ran: its code took the test process down with it.
            report(result(lost, "killed", time.perf_counter(), why="the test process was killed while it ran"))
            fast = [m for m in fast if m is not lost]
        restarts += 1
        if fast and restarts > CRASH_RESTARTS:
            for m in fast:
                report(result(m, "error", time.perf_counter(), why="the collector kept failing"))
            fast = []
    snapshot = fs.DirSnapshot(os.getcwd()) if fresh else None
    for mutant in fresh:
        if str(mutant["id"]) not in done:
            on_start(str(mutant["id"]))
            report(_fresh(plan, mutant, budget))
            snapshot.restore()
    finish(list(done.values()))


def _read_lines(fd, buffer):
    chunk = os.read(fd, 65536)
    if not chunk:
        return None
    buffer += chunk
    *lines, rest = buffer.split(b"\n")
    buffer[:] = rest
    return lines


def _collector(plan, mutants, budget, report):
    """Run `mutants` in a collector process. Returns (mutants it says need a fresh import, the mutant in
    flight if the collector ended early, else None)."""
    by_id = {str(m["id"]): m for m in mutants}
    deadline_ms = budget.factor * budget.setup + budget.floor
    for m in mutants:
        deadline_ms += budget.tests(m["run"]) + budget.tests(range(max(m["first"], 0), len(budget.ms)))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _close_channel(keep=(write_fd,))
            _collector_main(plan, mutants, budget, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    needs_fresh, current, buffer = [], None, bytearray()
    deadline = time.monotonic() + deadline_ms / 1000.0
    ended = False
    try:
        while not ended:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                break
            lines = _read_lines(read_fd, buffer)
            if lines is None:
                ended = True
                break
            for line in lines:
                message = json.loads(line)
                kind = message.get("t")
                if kind == "start":
                    current = by_id.get(message["id"])
                elif kind == "fresh":
                    needs_fresh.append(by_id[message["id"]])
                    current = None
                elif kind == "result":
                    report(message["r"])
                    current = None
                elif kind == "end":
                    return needs_fresh, None
    finally:
        os.close(read_fd)
        _kill_group(pid)
        _reap(pid)
    return needs_fresh, current


def _kill_group(pid):
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _reap(pid):
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def _send(fd, message):
    data = (json.dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _collector_main(plan, mutants, budget, out_fd):
    """C: collect once, then fork per mutant. Its own process group, so R can kill it and what it left."""
    os.setpgid(0, 0)
    pytest = _import_pytest()
    collector = _Collector(plan, mutants, budget, out_fd)
    try:
        pytest.main(pytest_args(plan), plugins=[collector])
    finally:
        _send(out_fd, {"t": "end"})
        os._exit(0)


class _Recorder:
    """In a forked test process: the first failing test, and the test running now."""

    def __init__(self):
        self.failed = None
        self.ran = 0

    def pytest_runtest_logreport(self, report):
        if report.failed and self.failed is None:
            self.failed = report.nodeid

    def pytest_runtest_logfinish(self, nodeid, location):
        self.ran += 1


def _run_items(items, recorder, out_fd, progress=None):
    """Run `items` in order, stopping at the first failure; report ("killed", test) or ("survived").
    `progress` (shared memory) holds the number of the test running, should the process die in it."""
    for i, item in enumerate(items):
        if progress is not None:
            struct.pack_into("q", progress, 0, i + 1)
        try:
            item.ihook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)
        except BaseException:  # noqa: BLE001 - KeyboardInterrupt, pytest.exit(): a direct run stops non-zero
            _send(out_fd, {"t": "done", "s": "killed", "by": item.nodeid, "n": recorder.ran})
            return
        if recorder.failed is not None:
            _send(out_fd, {"t": "done", "s": "killed", "by": recorder.failed, "n": recorder.ran})
            return
    _send(out_fd, {"t": "done", "s": "survived", "n": recorder.ran})


def _quiet_failures(session):
    """Nothing a forked test process reports is read but its verdict: no traceback formatting (a source
    lookup through every module costs more than most tests: --tb=no) and no progress output (the terminal
    reporter's hooks). Pass or fail is unchanged."""
    session.config.option.tbstyle = "no"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        session.config.pluginmanager.unregister(reporter)


def _cpu_limit(budget_ms):
    seconds = int(budget_ms / 1000.0) + 2
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        seconds = min(seconds, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))
    except (ValueError, OSError):
        pass


def _watch(pid, read_fd, budget_ms, names=(), progress=None):
    """Wait for a forked test process. Returns (status, failing test or None, tests run, why)."""
    deadline = time.monotonic() + budget_ms / 1000.0
    buffer, current, outcome = bytearray(), None, None
    timed_out = False
    while outcome is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
            timed_out = True
            break
        lines = _read_lines(read_fd, buffer)
        if lines is None:
            break
        for line in lines:
            message = json.loads(line)
            if message.get("t") == "test":
                current = message["name"]
            elif message.get("t") == "done":
                outcome = message
    os.close(read_fd)
    if current is None and progress is not None:
        running = struct.unpack_from("q", progress, 0)[0]
        current = names[running - 1] if 0 < running <= len(names) else None
    if outcome is None:
        _kill_group(pid)
    status = _reap(pid)
    _kill_group(pid)  # anything it started and left behind
    if outcome is not None:
        return outcome["s"], outcome.get("by"), outcome.get("n", 0), outcome.get("why")
    if timed_out or (status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
        return "timeout", None, 0, None
    # It ended without a verdict (os._exit, a signal): a direct pytest run would have failed there too.
    return "killed", current, 0, "the test process ended while %s ran" % (current or "the tests")


def _fork_tests(items, budget_ms, prepare, close_fd, snapshot):
    read_fd, write_fd = os.pipe()
    # Which test runs: written by the child without a system call, read only if it dies without a verdict.
    progress = mmap.mmap(-1, 8)
    pid = os.fork()
    if pid == 0:
        try:
            # Only the collector's pipe to R: pytest's capture holds fds of its own here.
            os.close(read_fd)
            os.close(close_fd)
            os.setpgid(0, 0)
            _cpu_limit(budget_ms)
            recorder = prepare()
            _run_items(items, recorder, write_fd, progress)
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        return _watch(pid, read_fd, budget_ms, [item.nodeid for item in items], progress)
    finally:
        progress.close()
        snapshot.restore()


class _Collector:
    """pytest plugin for C: takes over the test loop once collection is done."""

    def __init__(self, plan, mutants, budget, out_fd):
        self.plan = plan
        self.mutants = mutants
        self.budget = budget
        self.out_fd = out_fd
        self.recorder = _Recorder()

    def pytest_configure(self, config):
        config.pluginmanager.register(self.recorder, "efsbx-mutants-recorder")

    def pytest_runtestloop(self, session):
        _quiet_failures(session)
        items = {item.nodeid: item for item in session.items}
        ordered = [items.get(name) for name in self.plan["tests"]]
        if session.testsfailed or any(item is None for item in ordered):
            # Collection is not what the baseline saw: run these with a fresh import instead.
            for mutant in self.mutants:
                _send(self.out_fd, {"t": "fresh", "id": str(mutant["id"])})
            return True
        root = os.getcwd()
        # The files every mutant starts from (collecting may have written some: they count as the start).
        self.snapshot = fs.DirSnapshot(root)
        sources = {}
        functions = swap.FunctionIndex([os.path.join(root, m["file"]) for m in self.mutants])
        gc.collect()
        gc.freeze()  # pages stay shared with every fork
        for mutant in self.mutants:
            _send(self.out_fd, {"t": "start", "id": str(mutant["id"])})
            started = time.perf_counter()
            path = os.path.join(root, mutant["file"])
            source = sources.get(path)
            if source is None:
                with open(path, encoding="utf-8", newline="") as handle:
                    source = sources[path] = swap.SourceFile(path, handle.read())
            first, last = mutant["lines"]
            applied = swap.plan_mutant(source, first, last, mutant["text"], functions)
            if applied.error:
                record = result(mutant, "incompetent", started, why=applied.error)
            elif applied.fresh:
                _send(self.out_fd, {"t": "fresh", "id": str(mutant["id"])})
                continue
            else:
                record = self._run(mutant, ordered, applied, started)
            _send(self.out_fd, {"t": "result", "r": record})
        return True

    def _prepare(self, applied):
        def prepare():
            swap.apply_swaps(applied)
            return self.recorder

        return prepare

    def _run(self, mutant, ordered, applied, started):
        # first < 0: only the tests that reach the mutant (the covering-only scope).
        tail = list(mutant["run"]) if mutant["first"] < 0 else list(range(mutant["first"], len(ordered)))
        phase1 = list(mutant["run"]) if self.budget.worth_two_phases(mutant["run"], tail) else tail
        status, by, ran, why = _fork_tests(
            [ordered[i] for i in phase1], self.budget.tests(phase1), self._prepare(applied), self.out_fd, self.snapshot
        )
        if status == "survived" and tail != phase1:
            status, by, more, why = _fork_tests(
                [ordered[i] for i in tail], self.budget.tests(tail), self._prepare(applied), self.out_fd, self.snapshot
            )
            ran += more
        return result(mutant, status, started, by=by, ran=ran, why=why)


def _fresh(plan, mutant, budget):
    """F: the project imported from scratch with the mutated file, every test from the first that reached it."""
    started = time.perf_counter()
    path = os.path.join(os.getcwd(), mutant["file"])
    with open(path, encoding="utf-8", newline="") as handle:
        original = handle.read()
    first, last = mutant["lines"]
    try:
        text = swap.splice(original, first, last, mutant["text"])
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return result(mutant, "incompetent", started, why="%s: %s" % (type(exc).__name__, exc))
    tail = list(range(max(mutant["first"], 0), len(budget.ms)))
    budget_ms = budget.tests(tail, fresh=True)
    read_fd, write_fd = os.pipe()
    progress = mmap.mmap(-1, 8)
    pid = os.fork()
    if pid == 0:
        try:
            _close_channel(keep=(write_fd,))
            os.setpgid(0, 0)
            _cpu_limit(budget_ms)
            swap.MutatedSource(path, text).install()
            pytest = _import_pytest()
            pytest.main(pytest_args(plan), plugins=[_FreshRunner(plan, tail, write_fd, progress)])
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        status, by, ran, why = _watch(pid, read_fd, budget_ms, [plan["tests"][i] for i in tail], progress)
    finally:
        progress.close()
    return result(mutant, status, started, by=by, ran=ran, why=why)


class _FreshRunner:
    """pytest plugin for F: a collection error is the mutant's (`incompetent`); then the tail, in order."""

    def __init__(self, plan, tail, out_fd, progress):
        self.plan = plan
        self.tail = tail
        self.out_fd = out_fd
        self.progress = progress
        self.recorder = _Recorder()
        self.errors = []

    def pytest_configure(self, config):
        config.pluginmanager.register(self.recorder, "efsbx-mutants-recorder")

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(report.nodeid + "\n" + cov._text(report))

    def pytest_runtestloop(self, session):
        if self.errors or session.testsfailed:
            _send(self.out_fd, {"t": "done", "s": "incompetent", "n": 0, "why": "\n".join(self.errors)[-1500:]})
            return True
        _quiet_failures(session)
        items = {item.nodeid: item for item in session.items}
        wanted = [self.plan["tests"][i] for i in self.tail]
        # A test the baseline had and this collection lacks: the mutant changed what is collected.
        missing = [name for name in wanted if name not in items]
        if missing:
            _send(self.out_fd, {"t": "done", "s": "killed", "by": missing[0], "n": 0, "why": "not collected"})
            return True
        _run_items([items[name] for name in wanted], self.recorder, self.out_fd, self.progress)
        return True
