"""Entry point of one job, started by the supervisor as the job's own uid in the job's directory.

It may start before its job is known: it blocks reading fd 3 (the spec pipe: nonce, job fields, limits and
sources; drained and closed first), writes the sources, applies the limits, then runs the checks.
fd 4: result pipe; fds 0-2 as usual.
Everything the harness needs is imported before any candidate code runs; then the runtime directory leaves
sys.path and the job directory takes its place, so the job imports its own modules and nothing of ours.
"""

import os
import sys

import efsbx_formats  # light; imported before the spec arrives, while the runner waits for its job
import efsbx_report as report

spec, files = report.read_spec()
emit_test, finish = report.make_reporter(spec.pop("nonce"))
kind = spec.get("runner")

try:
    report.write_files(files)
    del files
    report.apply_limits(spec)
    if kind in ("humaneval", "mbpp"):
        run = efsbx_formats.run_humaneval if kind == "humaneval" else efsbx_formats.run_mbpp
    elif kind == "pytest":
        import efsbx_pytest

        run = efsbx_pytest.run_pytest
    elif kind == "unittest":
        import efsbx_unittest

        run = efsbx_unittest.run_unittest
    else:
        finish("error", "invalid_job", message="unknown runner " + repr(kind))
    sys.path[0] = os.getcwd()
    run(spec, emit_test, finish)
    finish("error", "harness_error", message="runner returned without a verdict")
except BaseException as exc:  # noqa: BLE001
    # Reached only when the harness itself breaks (every runner catches candidate exceptions itself).
    finish("error", "harness_error", message=report.describe(exc))
