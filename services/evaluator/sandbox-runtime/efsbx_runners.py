"""The runners the sandbox knows: one line each in RUNNERS, mapping a job's `runner` to the module that
implements it. Adding a runner is a module and a line here; the supervisor, the zygote, the checker and the
candidate all dispatch through this table.

A runner module provides:
  job_files(job)       supervisor (root, trusted): validate the job; return (candidate files, checker files,
                       spec fields for both, expected number of tests or None). Raise InvalidJob(reason,
                       message) for a job that must not run.
  check(spec, files, remote, reporter, in_process)
                       checker: run the tests and end with reporter.finish(...).
and optionally:
  write_files(files)   candidate, before any of the job's code runs (default: flat files, efsbx_report).
  load(server, spec)   candidate: run the program before serving the checker (humaneval, mbpp).
  in_process(server, *args)
                       candidate: work the checker asks for with ("in_process", runner, *args).
"""

import importlib

RUNNERS = {
    "humaneval": "efsbx_formats",
    "mbpp": "efsbx_formats",
    "pytest": "efsbx_suites",
    "unittest": "efsbx_suites",
    "project": "efsbx_project",
    "mutants": "efsbx_mutants",
    "evalplus": "efsbx_evalplus",
}


class InvalidJob(Exception):
    """A job the sandbox refuses to run: the caller's fault, never an infrastructure error."""

    def __init__(self, message, reason="invalid_job", verdict="error"):
        super().__init__(message)
        self.reason = reason
        self.verdict = verdict


def module_for(runner):
    """The module implementing `runner`, or None for a runner this sandbox does not know."""
    name = RUNNERS.get(runner) if isinstance(runner, str) else None
    return importlib.import_module(name) if name else None


def preload():
    """Import every runner module (the zygote does, so no fork pays for an import)."""
    for name in sorted(set(RUNNERS.values())):
        importlib.import_module(name)
