"""EvalPlus (HumanEval+, MBPP+): a function called on many inputs, its outputs compared with the reference's.

The job's `evalplus` object chooses the mode:

reference  The program is the dataset's reference (prompt + contract + canonical solution). The checker calls
           its entry point on each input (decoded afresh for every call: EvalPlus's trusted_exec deep-copies
           each input), times the call, and returns each output encoded with efsbx_codec (base64) in the final
           record's `data`: {"outputs": [b64 | None], "timesMs": [ms | None], "errors": [[i, reason, text]],
           "done": n}. An input on which the reference raises is an error, reason `contract` when the failing
           line is a contract line (`# $_CONTRACT_$`), else `reference_error`; EvalPlus drops such inputs when
           it generates them, and the caller leaves them out of the tests. A chunk stops early when its byte
           or time budget is spent (`done` < the inputs given); the caller sends the rest in another job. An
           output larger than the budget comes alone, in slices: `"slice": {"offset", "total", "sha256"}` with
           `done` 0, the caller asking again from the next offset (`sliceOffset`) until it has it all.
check      The program is a sample. For each phase (base, then plus) each input goes to the candidate and its
           output is compared with the reference's by EvalPlus's rules (evalplus/eval/__init__.py,
           unsafe_execute): exact equality, the special oracles of a few HumanEval/MBPP tasks, else (atol set,
           or enforced to 1e-6 once an expected output is a float or a list/tuple of floats) the same type, the
           same length and np.allclose(rtol=1e-07, atol). Each input has its own limit max(floor, factor x the
           reference's time); a phase may take min(cap, their sum) + 2 s. A phase stops at its first failure
           (EvalPlus's fast check). One test per phase; `data` holds EvalPlus's status words per phase:
           {"base": "pass" | "fail" | "timeout" | "not_run", "plus": ..., "failure": {...}}.

Inputs are JSON arrays of argument lists (Python's json: NaN, Infinity and integers of any size survive); MBPP+
inputs are converted to tuples, sets and complex numbers per task as EvalPlus's loader does. Comparisons run
on the checker's own objects; numpy only ever sees plain data the checker decoded itself.
"""

import base64
import hashlib
import json
import math
import sys
import time

import efsbx_checker as checker
import efsbx_codec as codec
import efsbx_remote as remote_mod
import efsbx_report as report
from efsbx_runners import InvalidJob

CONFIG_FILE = "evalplus.json"
PHASES = ("base", "plus")
MODES = ("reference", "check")
DATASETS = ("humaneval", "mbpp", "custom")
DATA_LIMIT = 64 * 1024 * 1024  # inputs and expected outputs of one job, all phases (SECURITY.md)
OUTPUT_BUDGET = 2_500_000  # base64 characters of reference outputs per chunk: the final record stays < 4 MiB
OUTPUT_LIMIT = 32 * 1024 * 1024  # base64 characters of one reference output, sent in slices
SHOW = 300  # characters of an input or value quoted in a failure message
CONTRACT_MARK = "$_CONTRACT_$"

# evalplus/eval/_special_oracle.py: the MBPP+ tasks whose outputs are compared specially.
MBPP_OUTPUT_NOT_NONE_TASKS = ("check_str", "text_match_three", "text_starta_endb")
MBPP_OUTPUT_SET_EQ_TASKS = (
    "similar_elements",
    "find_char_long",
    "common_in_nested_lists",
    "extract_singly",
    "larg_nnum",
    "intersection_array",
    "find_dissimilar",
    "Diff",
)


class _Reject(Exception):
    """A value the reference produced that cannot be kept as an expected output."""


# -- MBPP+ inputs: JSON has no tuples, sets or complex numbers (evalplus/data/mbpp.py, per task) -------------
def _tuples(items):
    return [tuple(item) for item in items]


def _all_tuples(value):
    if isinstance(value, list):
        return tuple(_all_tuples(item) for item in value)
    return value


_MBPP_RULES = {}
for _n in (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809):
    _MBPP_RULES[_n] = _tuples
for _n in (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780):
    _MBPP_RULES[_n] = lambda inp: [_tuples(group) for group in inp]
for _n in (75, 413, 444, 753):
    _MBPP_RULES[_n] = lambda inp: [_tuples(inp[0])] + [inp[1]]
for _n in (106, 750):
    _MBPP_RULES[_n] = lambda inp: [inp[0]] + [tuple(inp[1])]
_MBPP_RULES[115] = lambda inp: [[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]]
_MBPP_RULES[124] = lambda inp: (float(inp[0]), complex(inp[1]))
for _n in (250, 405, 446, 617, 720, 763, 808):
    _MBPP_RULES[_n] = lambda inp: [tuple(inp[0])] + [inp[1]]
for _n in (259, 401, 445):
    _MBPP_RULES[_n] = lambda inp: _tuples([_tuples(group) for group in inp])
_MBPP_RULES[278] = lambda inp: _tuples([[tuple(item) if isinstance(item, list) else item for item in inp[0]]])
_MBPP_RULES[307] = lambda inp: [tuple(inp[0])] + [inp[1], inp[2]]
_MBPP_RULES[722] = lambda inp: [{key: tuple(value) for key, value in inp[0].items()}] + inp[1:]
_MBPP_RULES[252] = lambda inp: [complex(inp[0])]
for _n in (580, 615, 791):
    _MBPP_RULES[_n] = _all_tuples


def input_rule(dataset, task_id):
    """How one input of this task is turned into the arguments EvalPlus passes (identity for most tasks)."""
    if dataset == "mbpp" and isinstance(task_id, str) and task_id.rpartition("/")[2].isdigit():
        return _MBPP_RULES.get(int(task_id.rpartition("/")[2]))
    return None


# -- comparison: evalplus/eval/__init__.py, unsafe_execute ------------------------------------------------
def _poly(xs, x):
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _surface_area(base_edge, height):
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _digit_distance_nums(num1, num2):
    left, right = str(num1), str(num2)
    width = max(len(left), len(right))
    return sum(abs(int(a) - int(b)) for a, b in zip(left.zfill(width), right.zfill(width)))


def is_floats(value):
    """EvalPlus's is_floats: a float, or a non-empty list/tuple of floats (expected outputs are plain data)."""
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, float) for item in value)
    return False


_PLAIN = (type(None), bool, int, float, complex, str, bytes, bytearray)
_CONTAINERS = (list, tuple, set, frozenset)


def is_plain(value):
    """Plain data all the way down (no candidate object anywhere), checked without calling anything."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind in _CONTAINERS:
            pending.extend(item)
        elif kind is dict:
            pending.extend(item.keys())
            pending.extend(item.values())
        else:
            return False
    return True


def _allclose(out, exp, atol):
    """np.allclose(out, exp, rtol=1e-07, atol=atol) on plain data only: a candidate object reaching numpy could
    answer its array protocol with a pointer into the checker's memory."""
    if not (is_plain(out) and is_plain(exp)):
        raise AssertionError("not plain data")
    try:
        import numpy
    except ImportError:
        return _allclose_python(out, exp, atol)
    return bool(numpy.allclose(out, exp, rtol=1e-07, atol=atol))


def _allclose_python(out, exp, atol):
    """numpy's rule without numpy (the process sandbox may lack it): numbers and flat sequences of numbers."""
    pairs = list(zip(out, exp)) if isinstance(out, (list, tuple)) and isinstance(exp, (list, tuple)) else [(out, exp)]
    if isinstance(out, (list, tuple)) and len(out) != len(exp):
        raise AssertionError("shapes differ")
    for x, y in pairs:
        if not all(type(v) in (bool, int, float, complex) for v in (x, y)):
            raise TypeError("numpy is not available to compare %s with %s" % (type(x).__name__, type(y).__name__))
        if math.isfinite(abs(x)) and math.isfinite(abs(y)):
            if not abs(x - y) <= atol + 1e-07 * abs(y):
                return False
        elif not x == y:
            return False
    return True


class Comparer:
    """One phase's comparisons. `atol` is the phase's own: EvalPlus enforces 1e-6 from the first float output
    on, for the rest of that phase."""

    def __init__(self, dataset, entry_point, atol):
        self.dataset = dataset
        self.entry_point = entry_point
        self.atol = atol

    def check(self, out, exp, inp):
        """Raise AssertionError (or any exception) when `out` does not pass for expected `exp`."""
        atol = self.atol
        exact = out == exp
        entry = self.entry_point
        if self.dataset == "mbpp":
            if entry == "are_equivalent":  # Mbpp/164
                exact = exact or True
            elif entry == "sum_div":  # Mbpp/295
                exact = exact or out == 0
            elif entry == "surface_Area":  # Mbpp/581
                exact = exact or abs(out - _surface_area(*inp)) <= atol
            elif entry == "digit_distance_nums":  # Mbpp/558
                exact = exact or out == _digit_distance_nums(*inp)
            elif entry in MBPP_OUTPUT_SET_EQ_TASKS:
                exact = set(out) == set(exp)
            elif entry in MBPP_OUTPUT_NOT_NONE_TASKS:
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
        if self.dataset == "humaneval" and entry == "find_zero":  # HumanEval/32: a root, not the reference's
            assert abs(_poly(*inp, out)) <= atol
            return
        if atol == 0 and is_floats(exp):
            atol = self.atol = 1e-6
        if not exact and atol != 0:
            assert type(out) is type(exp)
            if isinstance(exp, (list, tuple)):
                assert len(out) == len(exp)
            assert _allclose(out, exp, atol)
        else:
            assert exact


# -- showing values in messages (never asking the candidate) ----------------------------------------------
def show(value):
    if not is_plain(value):
        kind = object.__getattribute__(value, "_type") if type(value) is remote_mod.Handle else type(value).__name__
        return "<%s object of the candidate>" % kind
    import reprlib

    shower = reprlib.Repr()
    shower.maxstring = shower.maxother = SHOW
    shower.maxlist = shower.maxtuple = shower.maxdict = shower.maxset = shower.maxfrozenset = 20
    shower.maxlevel = 4
    try:
        text = shower.repr(value)
    except (ValueError, RecursionError):  # an int too long for str(): its size instead
        text = "<%s>" % type(value).__name__
    return text[:SHOW]


# -- data in and out ----------------------------------------------------------------------------------------
def _strict_ref(_value):
    raise _Reject("not plain data")


_ENCODER = codec.Encoder(_strict_ref, strict=True)
_DECODER = codec.Decoder(lambda _tag, _fields: _strict_ref(None))


def encode_value(value):
    try:
        return base64.b64encode(bytes(_ENCODER.encode(value))).decode("ascii")
    except (ValueError, RecursionError) as exc:
        raise _Reject(str(exc)) from None


def decode_value(text):
    return _DECODER.decode(base64.b64decode(text.encode("ascii"), validate=True))


def _json_list(files, name):
    raw = files.get(name, b"[]")
    # The dataset's integers may have any number of digits (Python's int-to-str limit is for untrusted text;
    # the candidate's integers cross as bytes, never as digits).
    digits = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidJob("%s is not a JSON array: %s" % (name, exc)) from None
    finally:
        sys.set_int_max_str_digits(digits)
    if type(value) is not list:
        raise InvalidJob("%s is not a JSON array" % name)
    return value


def _arguments(raw, rule):
    if type(raw) is not list:
        raise TypeError("an input is a list of arguments, not %s" % type(raw).__name__)
    return list(rule(raw)) if rule else raw


def _with_data(reporter, data):
    """The runner's reporter: every final record carries `data` (set up before the program is loaded)."""

    class Reporting:
        def emit_test(self, *args, **kwargs):
            reporter.emit_test(*args, **kwargs)

        def finish(self, verdict, reason=None, tests=(), message=None, tampered=None, integrity=None):
            reporter.finish(verdict, reason, tests=tests, message=message, tampered=tampered, integrity=integrity, data=data)

    return Reporting()


def _load_entry(remote, entry_point, reporter):
    entries = checker.load_candidate(remote, {entry_point}, reporter)
    namespace = checker.namespace_for(entries, entry_point)
    if entry_point not in {name for name, _kind, _value in entries} or entry_point not in namespace:
        message = "entry point " + repr(entry_point) + " is not defined by the program"
        reporter.finish("failed", "entry_point_missing", message=message)
    return namespace[entry_point]


# -- reference mode ------------------------------------------------------------------------------------------
def run_reference(config, files, remote, reporter):
    inputs = _json_list(files, "inputs.0")
    rule = input_rule(config["dataset"], config["taskId"])
    data = {"outputs": [], "timesMs": [], "errors": [], "done": 0}
    out_reporter = _with_data(reporter, data)
    fn = _load_entry(remote, config["entryPoint"], out_reporter)
    not_none = config["dataset"] == "mbpp" and config["entryPoint"] in MBPP_OUTPUT_NOT_NONE_TASKS
    budget = int(config.get("budgetChars") or OUTPUT_BUDGET)
    slice_s = float(config.get("sliceMs") or 20000) / 1000.0
    offset = int(config.get("sliceOffset") or 0)
    started, used = time.monotonic(), 0
    for index, raw in enumerate(inputs):
        if index and time.monotonic() - started > slice_s:
            break
        try:
            args = _arguments(raw, rule)
        except Exception as exc:  # noqa: BLE001 - the dataset's input, not the reference
            _reference_error(data, index, "invalid_input", report.describe(exc))
            continue
        began = time.perf_counter()
        try:
            out = fn(*args)
            if remote.fatal is not None:
                raise remote.fatal
        except remote_mod.CheckerAbort as abort:
            # The reference is stuck or gone: this input is lost, the next chunk starts after it.
            reason = "reference_timeout" if abort.verdict == "timeout" else "reference_" + abort.reason
            _reference_error(data, index, reason, abort.message)
            out_reporter.finish("passed", None, tests=[{"name": "reference", "outcome": "passed"}])
        except BaseException as exc:  # noqa: BLE001 - the reference raised on this input
            text = report.describe(exc)
            _reference_error(data, index, "contract" if CONTRACT_MARK in text else "reference_error", text)
            continue
        elapsed_ms = (time.perf_counter() - began) * 1000.0
        if not_none:
            out = out is not None
        try:
            if not is_plain(out):
                raise _Reject("the reference returned %s, which is not plain data" % show(out))
            encoded = encode_value(out)
            if len(encoded) > OUTPUT_LIMIT:
                raise _Reject("the reference's output takes %d characters encoded, over %d" % (len(encoded), OUTPUT_LIMIT))
        except _Reject as exc:
            _reference_error(data, index, "output_not_kept", str(exc))
            continue
        if index and used + len(encoded) > budget:
            break  # the next chunk starts with this input
        if len(encoded) > budget or offset:
            # Too large for one reply: this chunk carries one slice of it (the caller asks for the next).
            digest = hashlib.sha256(encoded.encode("ascii")).hexdigest()
            data["outputs"].append(encoded[offset : offset + budget])
            data["timesMs"].append(round(elapsed_ms, 3))
            data["slice"] = {"offset": offset, "total": len(encoded), "sha256": digest}
            break
        used += len(encoded)
        data["outputs"].append(encoded)
        data["timesMs"].append(round(elapsed_ms, 3))
        data["done"] = index + 1
    out_reporter.finish("passed", None, tests=[{"name": "reference", "outcome": "passed"}])


def _reference_error(data, index, reason, text):
    data["outputs"].append(None)
    data["timesMs"].append(None)
    data["errors"].append([index, reason, text[-500:]])
    data["done"] = index + 1


# -- check mode ----------------------------------------------------------------------------------------------
def run_check(config, files, remote, reporter):
    phases = config["phases"]
    data = {name: "not_run" for name in (p["name"] for p in phases)}
    out_reporter = _with_data(reporter, data)
    fn = _load_entry_or_fail(remote, config["entryPoint"], out_reporter, data)
    rule = input_rule(config["dataset"], config["taskId"])
    floor_s, factor = config["floorMs"] / 1000.0, float(config["factor"])
    cap_s = config["phaseCapMs"] / 1000.0
    tests, stopped = [], None
    for number, phase in enumerate(phases):
        name = phase["name"]
        if stopped is not None:
            tests.append({"name": name, "outcome": "skipped", "message": "not run: " + stopped.message})
            continue
        started = report.now_ms()
        status, message, stopped = _run_phase(number, phase, files, fn, remote, rule, config, floor_s, factor, cap_s)
        data[name] = status
        test = {"name": name, "outcome": "passed" if status == "pass" else "failed", "ms": report.now_ms() - started}
        if message:
            test["message"] = message
            data.setdefault("failure", {"phase": name, "message": message[-1000:]})
        tests.append(test)
        reporter.emit_test(name, test["outcome"], test["ms"], message)
    if all(data[p["name"]] == "pass" for p in phases):
        out_reporter.finish("passed", None, tests=tests)
    if stopped is not None:
        out_reporter.finish(stopped.verdict, stopped.reason, tests=tests, message=stopped.message)
    if any(data[p["name"]] == "timeout" for p in phases):
        out_reporter.finish("timeout", "phase_time_limit", tests=tests)
    out_reporter.finish("failed", None, tests=tests)


def _load_entry_or_fail(remote, entry_point, reporter, data):
    # A program that does not load fails every phase, as EvalPlus's exec failing does.
    for name in data:
        data[name] = "fail"
    fn = _load_entry(remote, entry_point, reporter)
    for name in data:
        data[name] = "not_run"
    return fn


def _run_phase(number, phase, files, fn, remote, rule, config, floor_s, factor, cap_s):
    """(status, failure message, the abort that ended the job or None) of one phase."""
    inputs = _json_list(files, "inputs.%d" % number)
    expected = _json_list(files, "expected.%d" % number)
    ref_ms = phase.get("refMs") or []
    indices = phase.get("indices") or list(range(len(inputs)))
    if not (len(inputs) == len(expected) == len(ref_ms) == len(indices)):
        raise InvalidJob("phase %s: inputs, expected, refMs and indices differ in length" % phase["name"])
    limits = [max(floor_s, factor * float(ms) / 1000.0) for ms in ref_ms]
    deadline = time.monotonic() + min(cap_s, sum(limits)) + 2.0
    comparer = Comparer(config["dataset"], config["entryPoint"], float(config.get("atol") or 0))
    where = "%s input #%s (%d of %d)"
    for position, raw in enumerate(inputs):
        label = where % (phase["name"], indices[position], position + 1, len(inputs))
        now = time.monotonic()
        if now >= deadline:
            return "timeout", "%s: the phase's time limit ran out" % label, None
        try:
            args = _arguments(raw, rule)
        except Exception as exc:  # noqa: BLE001 - the dataset's input (the reference would have left it out)
            raise InvalidJob("%s cannot be turned into arguments: %s" % (label, exc)) from None
        per_input = limits[position] <= deadline - now
        remote.call_limit_s = max(0.001, min(limits[position], deadline - now))
        try:
            out = fn(*args)
            if remote.fatal is not None:
                raise remote.fatal
        except remote_mod.CheckerAbort as abort:
            if abort.reason == "call_timeout":
                # EvalPlus: an input over its own limit fails the phase; over the phase's budget, it times out.
                limit = "its limit of %.3f s" % limits[position] if per_input else "the phase's time limit"
                status = "fail" if per_input else "timeout"
                return status, "%s: exceeded %s (%s)" % (label, limit, show(args)), abort
            status = "timeout" if abort.verdict == "timeout" else "fail"
            return status, "%s: %s" % (label, abort.message), abort
        except BaseException as exc:  # noqa: BLE001 - the candidate raised
            return "fail", "%s: %s raised\n%s" % (label, show(args), report.describe(exc)), None
        try:
            exp = decode_value(expected[position])
        except (codec.ProtocolError, ValueError, TypeError, _Reject) as exc:
            raise InvalidJob("expected output %d is malformed: %s" % (position, exc)) from None
        try:
            comparer.check(out, exp, args)
        except remote_mod.CheckerAbort:
            raise
        except BaseException as exc:  # noqa: BLE001 - AssertionError, or a comparison that could not be made
            why = "" if isinstance(exc, AssertionError) else " (%s)" % report.describe(exc).strip().splitlines()[-1]
            text = "%s: expected %s, got %s%s\ninput: %s" % (label, show(exp), show(out), why, show(args))
            return "fail", text, None
    return "pass", None, None


# -- the runner table's entry points (efsbx_runners) ---------------------------------------------------------
def job_files(job):
    """Supervisor side: the program for the candidate; the configuration, inputs and outputs for the checker."""
    code, entry = job.get("code"), job.get("entryPoint")
    options = job.get("evalplus")
    if not isinstance(code, str):
        raise InvalidJob("code must be a string")
    if not isinstance(entry, str) or not entry.isidentifier():
        raise InvalidJob("evalplus needs entryPoint, a Python identifier")
    if not isinstance(options, dict) or options.get("mode") not in MODES:
        raise InvalidJob("evalplus needs an evalplus object with mode reference or check")
    if options.get("dataset") not in DATASETS or not isinstance(options.get("taskId"), str):
        raise InvalidJob("evalplus.dataset must be humaneval, mbpp or custom, evalplus.taskId a string")
    phases = options.get("phases")
    if options["mode"] == "reference":
        phases = [{"name": "reference", "inputs": options.get("inputs")}]
    if not isinstance(phases, list) or not 1 <= len(phases) <= len(PHASES):
        raise InvalidJob("evalplus.phases must hold one or two phases")
    config = {k: options.get(k) for k in ("mode", "dataset", "taskId", "atol", "floorMs", "factor", "phaseCapMs")}
    for key in ("budgetChars", "sliceMs", "sliceOffset"):
        if options.get(key) is not None and (type(options[key]) is not int or options[key] < 0):
            raise InvalidJob("evalplus.%s must be a non-negative integer" % key)
        config[key] = options.get(key)
    config["entryPoint"] = entry
    if options["mode"] == "check":
        for key in ("atol", "floorMs", "factor", "phaseCapMs"):
            if not _number(config[key]) or config[key] < 0:
                raise InvalidJob("evalplus.%s must be a non-negative number" % key)
    checker_files, size, metas = {}, 0, []
    for number, phase in enumerate(phases):
        if not isinstance(phase, dict):
            raise InvalidJob("a phase must be an object")
        name, inputs, expected = phase.get("name"), phase.get("inputs"), phase.get("expected", "[]")
        if options["mode"] == "check" and name not in PHASES or not isinstance(inputs, str):
            raise InvalidJob("a phase needs a name (base, plus) and inputs, a JSON array as text")
        if not isinstance(expected, str):
            raise InvalidJob("a phase's expected outputs are a JSON array as text")
        ref_ms, indices = phase.get("refMs", []), phase.get("indices")
        if not isinstance(ref_ms, list) or not all(_number(ms) and ms >= 0 for ms in ref_ms):
            raise InvalidJob("refMs must be a list of non-negative numbers")
        if indices is not None and not (isinstance(indices, list) and all(type(i) is int for i in indices)):
            raise InvalidJob("indices must be a list of integers")
        size += len(inputs) + len(expected)
        checker_files["inputs.%d" % number] = inputs
        checker_files["expected.%d" % number] = expected
        metas.append({"name": name, "refMs": ref_ms, "indices": indices})
    if size > DATA_LIMIT:
        raise InvalidJob("the inputs and expected outputs exceed %d bytes" % DATA_LIMIT)
    config["phases"] = metas
    checker_files[CONFIG_FILE] = json.dumps(config)
    return {"solution.py": code}, checker_files, {"runner": "evalplus", "entryPoint": entry}, len(metas)


def _number(value):
    return type(value) in (int, float) and math.isfinite(value)


def check(spec, files, remote, reporter, _in_process):
    try:
        config = json.loads(files.get(CONFIG_FILE, b"{}"))
        if config.get("mode") == "reference":
            run_reference(config, files, remote, reporter)
        else:
            run_check(config, files, remote, reporter)
    except InvalidJob as exc:
        reporter.finish("error", "invalid_job", message=str(exc))


def load(server, spec):
    """Candidate side: the program runs before the checker asks for its entry point."""
    server.load(spec)
