"""The supervisor's verdict: trusts a runner's final record only when it carries the job's nonce."""

import hmac
import json
import signal

VERDICTS = ("passed", "failed", "error", "timeout", "oom", "infra_error")
OUTCOMES = ("passed", "failed", "error", "skipped")
TEST_LIMIT = 10000


def parse_records(data):
    """JSON objects, one a line, from the result pipe; anything else is ignored (and can only hurt the job)."""
    records = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _clean_tests(raw):
    tests = []
    if not isinstance(raw, list):
        return tests
    for item in raw[:TEST_LIMIT]:
        if not isinstance(item, dict) or item.get("outcome") not in OUTCOMES:
            continue
        test = {"name": str(item.get("name", ""))[:500], "outcome": item["outcome"]}
        if isinstance(item.get("ms"), (int, float)):
            test["durationMs"] = round(float(item["ms"]), 3)
        if isinstance(item.get("message"), str) and item["message"]:
            test["message"] = item["message"]
        tests.append(test)
    return tests


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "SIG" + str(number)


def decide(records, nonce, expected_tests, outcome):
    """Verdict from the result records and how the job ended.

    outcome: dict with timed_out (bool), exit_code (int|None), signal (int|None), oom_kills (int),
    memory_error_in_stderr (bool).
    Returns dict(verdict, reason, tests, message?).
    """
    finals = [r for r in records if r.get("t") == "final"]
    genuine = [r for r in finals if hmac.compare_digest(str(r.get("nonce", "")).encode(), nonce.encode())]
    streamed = _clean_tests([r for r in records if r.get("t") == "test"])

    if len(genuine) > 1:
        return {"verdict": "failed", "reason": "tampered", "tests": streamed}
    if genuine:
        return _from_final(genuine[0], expected_tests)
    if finals:
        # Someone wrote a final record without knowing the nonce: only the candidate can have.
        return {"verdict": "failed", "reason": "forged_report", "tests": streamed}

    failed_early = any(t["outcome"] in ("failed", "error") for t in streamed)
    if outcome["timed_out"]:
        if failed_early:
            return {"verdict": "failed", "reason": "timeout_after_failure", "tests": streamed}
        return {"verdict": "timeout", "reason": "wall_clock", "tests": streamed}
    if outcome["signal"] == signal.SIGXCPU:
        return {"verdict": "timeout", "reason": "cpu_limit", "tests": streamed}
    if outcome["oom_kills"] > 0 or outcome["memory_error_in_stderr"]:
        return {"verdict": "oom", "reason": "memory_limit", "tests": streamed}
    return {"verdict": "failed", "reason": "exit_before_checks", "tests": streamed}


def _from_final(final, expected_tests):
    verdict = final.get("verdict")
    tests = _clean_tests(final.get("tests"))
    result = {"verdict": verdict, "reason": final.get("reason"), "tests": tests}
    if isinstance(final.get("message"), str):
        result["message"] = final["message"]
    if isinstance(final.get("tampered"), list):
        result["message"] = "tampered with: " + ", ".join(str(x) for x in final["tampered"][:20])
    if verdict not in VERDICTS or verdict in ("timeout", "infra_error"):
        return {"verdict": "error", "reason": "harness_error", "tests": tests, "message": "bad final record"}
    if verdict == "passed":
        # A pass must be internally consistent: every test passed or was skipped, and each expected test ran.
        if not tests or any(t["outcome"] not in ("passed", "skipped") for t in tests):
            return {"verdict": "failed", "reason": "inconsistent_report", "tests": tests}
        if expected_tests is not None and len(tests) != expected_tests:
            return {"verdict": "failed", "reason": "test_count_mismatch", "tests": tests}
    return result
