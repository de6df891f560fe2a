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


# The zygote imports these runners' modules when it starts. The others come in, on the first job that needs
# them, as the preloads below: their imports bring modules that register at-fork handlers (threading,
# random), which would cost every later fork ~1 ms of CPU.
EAGER = frozenset(("humaneval", "mbpp", "evalplus"))
PYTEST_RUNNERS = frozenset(("pytest", "project", "mutants"))  # jobs that may run pytest


def preloads(runner):
    """What the zygote must have imported before it forks a process for `runner`, in order."""
    if not isinstance(runner, str) or runner not in RUNNERS or runner in EAGER:
        return ()
    return ("runners", "pytest") if runner in PYTEST_RUNNERS else ("runners",)


def preload(name):
    """Import a preload's modules (in the zygote, so no fork pays for an import): "eager", "runners" (every
    runner module) or "pytest" (skipped where this Python has no pytest: the other formats still run)."""
    if name == "pytest":
        try:
            import efsbx_pytest  # noqa: F401
        except ImportError:
            pass
        return
    if name not in ("eager", "runners"):
        raise ValueError("unknown preload " + repr(name))
    chosen = EAGER if name == "eager" else RUNNERS
    for module in sorted({RUNNERS[runner] for runner in chosen}):
        importlib.import_module(module)
    if name == "runners":
        import efsbx_unittest  # noqa: F401 - the suites and projects import it in the job's processes
