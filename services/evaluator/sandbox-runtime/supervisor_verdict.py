"""The supervisor's verdict: the checker's final record, checked for consistency, and the measured facts.

The checker decides pass or fail (it is the only process that reports here, and the candidate cannot reach
it). The supervisor adds what only it can measure: the wall clock, and the candidate's exit, CPU time and
memory. `timeout` and `oom` come from those measurements only: a candidate that kills itself with SIGXCPU
or prints "MemoryError" gets `failed`, not a more forgiving verdict.

Everything parsed here is bounded and never raises: a malformed record is the job's failure, not ours.
"""

import json
import math
import signal

VERDICTS = ("passed", "failed", "error", "timeout", "oom")
OUTCOMES = ("passed", "failed", "error", "skipped")
INTEGRITY = ("checker", "handle", "in-process")
TEST_LIMIT = 2000
NAME_LIMIT = 500
MESSAGE_LIMIT = 4000
MESSAGES_BUDGET = 512 * 1024  # all test messages of one reply together
LINE_LIMIT = 4 << 20  # the result pipe's cap (supervisor_spawn.RESULT_CAP)
MEMORY_FRACTION = 0.75  # peak memory at or above this share of the limit explains a MemoryError as oom
CPU_SLACK_S = 0.05


def parse_records(data):
    """JSON objects, one a line, from the checker's result pipe; anything malformed is skipped."""
    records = []
    for line in data.split(b"\n"):
        if not line.strip() or len(line) > LINE_LIMIT:
            continue
        try:
            record = json.loads(line)
        except Exception:  # noqa: BLE001 - ValueError, RecursionError, ... : never the supervisor's failure
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _clean_tests(raw):
    tests, budget = [], MESSAGES_BUDGET
    if not isinstance(raw, list):
        return tests
    for item in raw[:TEST_LIMIT]:
        if not isinstance(item, dict) or item.get("outcome") not in OUTCOMES:
            continue
        test = {"name": str(item.get("name", ""))[:NAME_LIMIT], "outcome": item["outcome"]}
        ms = item.get("ms")
        # An int may have any number of digits: compare it before converting it.
        if type(ms) is int and 0 <= ms < 10**9 or type(ms) is float and math.isfinite(ms) and 0 <= ms < 1e9:
            test["durationMs"] = round(float(ms), 3)
        message = item.get("message")
        if isinstance(message, str) and message and budget > 0:
            test["message"] = message[-min(MESSAGE_LIMIT, budget) :]
            budget -= len(test["message"])
        tests.append(test)
    return tests


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "SIG" + str(number)


def decide(records, expected_tests, facts):
    """`_decide`, plus the runner's own results (`data`, a dict in the checker's final record) as they are."""
    result = _decide(records, expected_tests, facts)
    final = next((r for r in records if r.get("t") == "final"), None)
    if final is not None and isinstance(final.get("data"), dict):
        result["data"] = final["data"]
    return result


def _decide(records, expected_tests, facts):
    """Verdict from the checker's records and what the supervisor measured.

    facts: timed_out (the supervisor's wall clock ran out), oom_kills (the container's OOM-kill counter
    moved), memory_limit (bytes), candidate_peak (bytes: the larger of the checker's VmPeak reading and the
    rusage maximum RSS), candidate_exit ((status, cpu seconds) when the candidate ended on its own),
    cpu_limit (seconds of RLIMIT_CPU).
    Returns dict(verdict, reason, tests, integrity, message?).
    """
    finals = [r for r in records if r.get("t") == "final"]
    streamed = _clean_tests([r for r in records if r.get("t") == "test"])
    if not finals:
        if facts["timed_out"]:
            failed_early = any(t["outcome"] in ("failed", "error") for t in streamed)
            reason = "timeout_after_failure" if failed_early else "wall_clock"
            return _result("failed" if failed_early else "timeout", reason, streamed)
        if facts["oom_kills"] > 0:
            return _result("oom", "memory_limit", streamed)
        return _result("error", "harness_error", streamed, message="the checker ended without a verdict")

    final = finals[0]
    verdict = final.get("verdict")
    tests = _clean_tests(final.get("tests"))
    reason = final.get("reason") if isinstance(final.get("reason"), str) else None
    message = final.get("message") if isinstance(final.get("message"), str) else None
    integrity = final.get("integrity") if final.get("integrity") in INTEGRITY else "checker"
    if isinstance(final.get("tampered"), list):
        message = "tampered with: " + ", ".join(str(x)[:100] for x in final["tampered"][:20])
    if verdict not in VERDICTS:
        return _result("error", "harness_error", tests, integrity, "bad final record")
    if verdict == "passed":
        # A pass must be internally consistent: every test passed or was skipped, and each expected test ran.
        if not tests or any(t["outcome"] not in ("passed", "skipped") for t in tests):
            return _result("failed", "inconsistent_report", tests, integrity)
        if expected_tests is not None and len(tests) != expected_tests:
            return _result("failed", "test_count_mismatch", tests, integrity)
        return _result("passed", None, tests, integrity)

    exited = facts.get("candidate_exit")
    if reason == "exit_before_checks" and exited is not None:
        status, cpu = exited
        killed_by = _signal_of(status)
        if killed_by in (signal.SIGXCPU, signal.SIGKILL) and cpu >= facts["cpu_limit"] - CPU_SLACK_S:
            return _result("timeout", "cpu_limit", tests, integrity, message)
    if verdict in ("failed", "error") and (
        facts["oom_kills"] > 0 or facts.get("candidate_peak", 0) >= MEMORY_FRACTION * facts["memory_limit"]
    ):
        if reason in ("exit_before_checks", "memory_error") or facts["oom_kills"] > 0 or _memory_error(tests, message):
            return _result("oom", "memory_limit", tests, integrity, message)
    return _result(verdict, reason, tests, integrity, message)


def _memory_error(tests, message):
    texts = [t.get("message", "") for t in tests] + [message or ""]
    return any("MemoryError" in text[-400:] for text in texts)


def _signal_of(status):
    if status is None:
        return None
    try:
        import os

        return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    except (TypeError, ValueError):
        return None


def _result(verdict, reason, tests, integrity="checker", message=None):
    result = {"verdict": verdict, "reason": reason, "tests": tests, "integrity": integrity}
    if message:
        result["message"] = message[-MESSAGE_LIMIT:]
    return result
