"""Runner `mutants`: mutation testing of a project, a baseline or a batch of mutants per job.

A project's tests and mutants are project code: they run in the candidate's process and its forks (the
job's uid, its rlimits, its directory; see efsbx_mutants_run), and every verdict records integrity
"in-process". The checker holds the plan (which mutants, which tests, the budgets), hands it to the
candidate, relays what comes back to the supervisor and keeps only what the plan asked for: each mutant
once, by its id. If the job's process ends or the job's time runs out, the mutants that finished are kept
and reported, and the one in flight, when the process died under it, is `killed`; the evaluator runs the
rest again.

Job (from the evaluator): `files` (path -> text, the project) and `plan`:
  baseline: {"mode": "baseline", "testFiles": [...], "mutants": [{"file", "cover": [first, last]}, ...]}
  batch:    {"mode": "mutants", "testFiles", "tests": [node ids in collection order], "testMs": [...],
             "setupMs", "factor", "floorMs", "mutants": [{"id", "file", "lines": [first, last], "text",
             "run": [test indexes], "first": index or -1, "fresh": bool}, ...]}
Reply tests:
  baseline: "@collect" (the mutants reached while collecting, message "c:<index ranges>"), then each test
            with its outcome and duration; a passing one carries the mutants it reached the same way.
  batch:    one record per mutant that reached a verdict, named by its id, outcome "passed" (it was run),
            message the JSON {"s": killed|survived|timeout|incompetent|error, "by": [test], "n": tests run,
            "why": text}. The job's verdict is "passed" when every mutant of the plan has a record.
"""

import hmac
import json
import secrets
import time

import efsbx_mutants_run as run
import efsbx_project as project
import efsbx_remote as remote_mod
import efsbx_report as report
from efsbx_runners import InvalidJob

PLAN_FILE = "mutants.json"
MAX_FILES = 2000
MAX_TOTAL_BYTES = 8 * 1024 * 1024
MAX_MUTANTS = 2000
STATUSES = ("killed", "survived", "timeout", "incompetent", "error")
RELAY_EVERY_S = 0.5


def _path_problem(path):
    if not isinstance(path, str) or not path or len(path) > 1024 or path.startswith("/"):
        return "bad path %r" % (path,)
    if any(ord(c) < 32 or c in "\\\x7f" for c in path):
        return "path with a backslash or control character: %r" % path
    parts = path.split("/")
    if len(parts) > 32 or any(p in ("", ".", "..") or len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts):
        return "path with an empty, '.' or '..' segment: %r" % path
    if parts[0].startswith("efsbx_"):
        return "names starting with efsbx_ are the sandbox's: %r" % path
    return None


def files_problem(files):
    """Why a project tree is not acceptable (supervisor: str contents; candidate: bytes), or None."""
    if not isinstance(files, dict) or not files or len(files) > MAX_FILES:
        return "files must be an object of 1 to %d path -> content" % MAX_FILES
    total, directories = 0, set()
    for path, content in files.items():
        problem = _path_problem(path)
        if problem:
            return problem
        if not isinstance(content, (str, bytes)):
            return "content of %r must be a string" % path
        total += len(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        parts = path.split("/")
        directories.update("/".join(parts[:i]) for i in range(1, len(parts)))
    if total > MAX_TOTAL_BYTES:
        return "files total more than %d bytes" % MAX_TOTAL_BYTES
    clash = sorted(directories.intersection(files))
    return "%r is both a file and a directory" % clash[0] if clash else None


def _plan_problem(plan, files):
    if not isinstance(plan, dict) or plan.get("mode") not in ("baseline", "mutants"):
        return "plan.mode must be baseline or mutants"
    tests = plan.get("testFiles")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) and t in files for t in tests):
        return "plan.testFiles must name files of the project"
    mutants = plan.get("mutants")
    if not isinstance(mutants, list) or len(mutants) > MAX_MUTANTS:
        return "plan.mutants must be a list of at most %d" % MAX_MUTANTS
    for m in mutants:
        if not isinstance(m, dict) or m.get("file") not in files:
            return "every mutant must name a file of the project"
    return None


# -- the runner table's entry points (efsbx_runners) --------------------------------------------------------
def job_files(job):
    """Supervisor side: the project for the candidate, the plan for the checker."""
    files, plan = job.get("files"), job.get("plan")
    problem = files_problem(files) or _plan_problem(plan, files or {})
    if problem:
        raise InvalidJob(problem, reason="invalid_project", verdict="failed")
    return dict(files), {PLAN_FILE: json.dumps(plan)}, {"runner": "mutants"}, None


def write_files(files):
    """Candidate side, before any of the job's code runs: the tree, in the job's (empty) directory."""
    problem = files_problem(files)
    if problem:
        raise ValueError(problem)
    project.write_tree(files)


def check(spec, files, remote, reporter, in_process):
    """Checker side: hand the plan over, keep what the plan asked for, finish with it."""
    in_process.append("mutation testing runs the project's own tests in its process")
    text = files.get(PLAN_FILE, b"")
    plan = json.loads(text)
    batch = plan["mode"] == "mutants"
    ids = {str(m.get("id")) for m in plan["mutants"]} if batch else set()
    kept, state = {}, {"flight": None}

    def on_test(record):
        if type(record) is not dict:
            return
        if batch and type(record.get("start")) is str:
            state["flight"] = record["start"] if record["start"] in ids else None
            return
        test = _mutant_record(record, ids) if batch else _test_record(record)
        if test is not None and (not batch or test["name"] not in kept):
            if batch:
                kept[test["name"]] = test
                state["flight"] = None
            reporter.emit_test(test["name"], test["outcome"], test.get("ms"), None if batch else test.get("message"))

    nonce = secrets.token_hex(16)
    remote.on_test = on_test
    try:
        reply = remote.request("in_process", "mutants", nonce, text)
    except remote_mod.CheckerAbort as abort:
        if batch and state["flight"] is not None and abort.reason == "exit_before_checks":
            why = "the job's process ended while this mutant ran"
            kept[state["flight"]] = _encode(state["flight"], {"s": "killed", "n": 0, "why": why}, None)
        reporter.finish(abort.verdict, abort.reason, tests=list(kept.values()), message=abort.message)
    if type(reply) is not tuple or len(reply) != 5 or type(reply[0]) is not str:
        reporter.finish("failed", "forged_report", message="the mutation run's report is malformed")
    if not hmac.compare_digest(reply[0].encode(), nonce.encode()):
        reporter.finish("failed", "forged_report", message="the mutation run's report is not genuine")
    _nonce, verdict, reason, tests, message = reply
    message = message if type(message) is str else None
    if batch:
        for record in tests if type(tests) is list else []:
            on_test(record)
        missing = sorted(ids - set(kept))
        if missing:
            reporter.finish("failed", "mutants_missing", tests=list(kept.values()), message="no verdict: " + ", ".join(missing[:20]))
        reporter.finish("passed", None, tests=list(kept.values()), message=message)
    cleaned = [t for t in (_test_record(r) for r in (tests if type(tests) is list else [])) if t]
    if verdict not in ("passed", "failed", "error"):
        verdict, reason = "error", "harness_error"
    reporter.finish(verdict, reason if type(reason) is str else None, tests=cleaned, message=message)


def _test_record(record):
    if type(record) is not dict or type(record.get("name")) is not str:
        return None
    if record.get("outcome") not in ("passed", "failed", "error", "skipped"):
        return None
    test = {"name": record["name"][:500], "outcome": record["outcome"]}
    if type(record.get("ms")) is float and 0 <= record["ms"] < 1e9:
        test["ms"] = record["ms"]
    if type(record.get("message")) is str:
        test["message"] = record["message"][-report.MESSAGE_LIMIT :]
    return test


def _mutant_record(record, ids):
    name, detail = record.get("name"), record.get("detail")
    if type(name) is not str or name not in ids or type(detail) is not dict or detail.get("s") not in STATUSES:
        return None
    clean = {"s": detail["s"], "n": detail["n"] if type(detail.get("n")) is int and detail["n"] >= 0 else 0}
    by = detail.get("by")
    if type(by) is list and by and all(type(b) is str for b in by):
        clean["by"] = [b[:500] for b in by[:1]]
    if type(detail.get("why")) is str:
        clean["why"] = detail["why"][-1500:]
    ms = record.get("ms")
    return _encode(name, clean, ms if type(ms) is float and 0 <= ms < 1e9 else None)


def _encode(name, detail, ms):
    test = {"name": name, "outcome": "passed", "message": json.dumps(detail)}
    if ms is not None:
        test["ms"] = ms
    return test


def in_process(server, nonce, text):
    """Candidate side: run the plan; stream each result; end with one report bound to `nonce`."""
    import efsbx_candidate as candidate

    plan = json.loads(text)

    def send(record):
        try:
            server.send(("test", record))
        except BaseException:  # noqa: BLE001 - the final report carries everything again
            pass

    def finish_baseline(verdict, reason=None, tests=(), message=None):
        server.send(("ok", (nonce, verdict, reason, list(tests), message)))
        candidate._leave(0)

    def finish_batch(records):
        server.send(("ok", (nonce, "passed", None, records, None)))
        candidate._leave(0)

    if plan["mode"] == "baseline":
        run.baseline(plan, lambda name, outcome, ms, message: None, finish_baseline)
        return
    # Results reach the checker in chunks (a round trip per mutant costs more than many mutants): what was
    # relayed survives this process dying; the final reply carries everything again.
    pending, flushed = [], [time.monotonic()]

    def relay(record):
        pending.append(record)
        if time.monotonic() - flushed[0] >= RELAY_EVERY_S:
            for r in pending:
                send(r)
            pending.clear()
            flushed[0] = time.monotonic()

    def start(mutant_id):
        for r in pending:
            send(r)
        pending.clear()
        send({"start": mutant_id})

    run.batch(plan, start, relay, finish_batch)
