"""Multi-file projects: the job's files written as a tree, its pytest or unittest suite run from the root.

A project's tests import its modules and packages, read its data files, use its conftest.py fixtures: they
need the project in their own process. The suite therefore runs inside the candidate's process with the
recording harness (efsbx_pytest / efsbx_unittest), its report bound to a nonce, and the verdict records
integrity "in-process" (see SECURITY.md). Everything else is as for any job: the job's uid, its private
directory as the project root (the working directory, first on sys.path), its rlimits, the checker's clock,
the clean-up proof.

Paths are checked twice, with the same rules: here by the supervisor before anything runs (a bad project is
`failed`, reason `invalid_project`), and again by the candidate as it writes the tree, before any of the
job's code runs: relative POSIX paths, no empty, `.` or `..` segment, no backslash or control character, no
file that is also a directory, bounded sizes. Files are created with O_EXCL | O_NOFOLLOW in directories the
writer has just made, so nothing can point a write outside the job's directory.
"""

import json
import os
import re

import efsbx_remote as remote_mod
import efsbx_report as report
from efsbx_runners import InvalidJob

# Mirrors PROJECT_LIMITS in shared/src/workflow/sandbox.ts.
MAX_FILES = 2000
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 8 * 1024 * 1024
MAX_PATH_CHARS = 1024
MAX_DEPTH = 32
MAX_SELECT = 2000
MAX_SELECT_CHARS = 1000
FRAMEWORKS = ("pytest", "unittest")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
OPTIONS_FILE = "project.json"


def path_problem(path):
    """Why `path` is not an acceptable project path, or None."""
    if not isinstance(path, str) or not path:
        return "a path must be a non-empty string"
    if len(path) > MAX_PATH_CHARS:
        return "path longer than %d characters: %r" % (MAX_PATH_CHARS, path[:100])
    if _BAD_CHARS.search(path):
        return "path with a backslash or control character: %r" % path
    if path.startswith("/"):
        return "absolute path: %r" % path
    parts = path.split("/")
    if len(parts) > MAX_DEPTH:
        return "path deeper than %d: %r" % (MAX_DEPTH, path)
    for part in parts:
        if part in ("", ".", ".."):
            return "path with an empty, '.' or '..' segment: %r" % path
        if len(part.encode("utf-8", "surrogatepass")) > 255:
            return "path segment longer than 255 bytes: %r" % path[:100]
    if parts[0].startswith("efsbx_"):
        return "names starting with efsbx_ are the sandbox's: %r" % path
    return None


def files_problem(files):
    """Why the file tree is not acceptable, or None. `files`: path -> str (supervisor) or bytes (candidate)."""
    if not isinstance(files, dict) or not files:
        return "files must be a non-empty object of path -> content"
    if len(files) > MAX_FILES:
        return "more than %d files" % MAX_FILES
    total, directories = 0, set()
    for path, content in files.items():
        problem = path_problem(path)
        if problem:
            return problem
        if isinstance(content, str):
            size = len(content.encode("utf-8", "surrogatepass"))
        elif isinstance(content, bytes):
            size = len(content)
        else:
            return "content of %r must be a string" % path
        if size > MAX_FILE_BYTES:
            return "%r is larger than %d bytes" % (path, MAX_FILE_BYTES)
        total += size
        parts = path.split("/")
        directories.update("/".join(parts[:i]) for i in range(1, len(parts)))
    if total > MAX_TOTAL_BYTES:
        return "files total more than %d bytes" % MAX_TOTAL_BYTES
    clash = sorted(directories.intersection(files))
    if clash:
        return "%r is both a file and a directory" % clash[0]
    return None


def _module_of(path):
    """`pkg/tests/test_x.py` -> `pkg.tests.test_x`, or None when that is not an importable name."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    return ".".join(parts) if all(p.isidentifier() for p in parts) else None


def _options_problem(job, files):
    framework = job.get("testFramework") or "pytest"
    if framework not in FRAMEWORKS:
        return "testFramework must be pytest or unittest"
    test_files = job.get("testFiles")
    if test_files is not None:
        if not isinstance(test_files, list) or len(test_files) > MAX_FILES:
            return "testFiles must be a list of paths in files"
        for path in test_files:
            if not isinstance(path, str) or path not in files or not path.endswith(".py"):
                return "testFiles must name .py files of the project: %r" % (path,)
            if framework == "unittest" and _module_of(path) is None:
                return "unittest test file %r is not an importable module path" % path
    select = job.get("select")
    if select is not None:
        if not isinstance(select, list) or len(select) > MAX_SELECT:
            return "select must be a list of at most %d test ids" % MAX_SELECT
        for item in select:
            if not isinstance(item, str) or not item or len(item) > MAX_SELECT_CHARS or _BAD_CHARS.search(item):
                return "select entries must be test ids without control characters: %r" % (item,)
            if item.startswith("-"):
                return "select entries must not start with '-': %r" % item
    return None


# -- the runner table's entry points (efsbx_runners) ------------------------------------------------------
def job_files(job):
    """Supervisor side: the tree for the candidate, the options for the checker."""
    files = job.get("files")
    problem = files_problem(files) or _options_problem(job, files)
    if problem:
        raise InvalidJob(problem, reason="invalid_project", verdict="failed")
    framework = job.get("testFramework") or "pytest"
    options = {"framework": framework, "testFiles": job.get("testFiles") or [], "select": job.get("select") or []}
    fields = {"runner": "project", "framework": framework}
    return dict(files), {OPTIONS_FILE: json.dumps(options)}, fields, None


def write_files(files):
    """Candidate side, before any of the job's code runs: the tree, in the job's (empty) directory."""
    problem = files_problem(files)
    if problem:
        raise ValueError(problem)
    write_tree(files)


def write_tree(files):
    """Writes an already validated tree into the (empty) current directory, creating nothing twice."""
    made = set()
    for path, content in files.items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            directory = "/".join(parts[:i])
            if directory not in made:
                os.mkdir(directory, 0o700)  # fails if it exists: nothing is created twice or followed
                made.add(directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            report.write_all(fd, content)
        finally:
            os.close(fd)


def check(spec, files, remote, reporter, in_process):
    """Checker side: the suite runs in the candidate's process; relay its records, keep its verdict."""
    import efsbx_suites as suites

    in_process.append("project")
    try:
        options = json.loads(files.get(OPTIONS_FILE, b"{}"))
    except ValueError:
        reporter.finish("error", "harness_error", message="unreadable project options")
    relayed = []
    args = (options.get("framework", "pytest"), options.get("testFiles", []), options.get("select", []))
    try:
        suites.relay_in_process(remote, reporter, "project", *args, relayed=relayed)
    except remote_mod.CheckerAbort as abort:
        # Out of time (or the candidate died): the tests that finished still say what passed.
        reporter.finish(abort.verdict, abort.reason, tests=relayed, message=abort.message)


def in_process(server, nonce, framework, test_files, select):
    """Candidate side: the project's suite with the recording harness; the report carries the nonce."""
    import efsbx_suites as suites

    def run(emit_test, finish):
        if framework == "unittest":
            import efsbx_unittest

            names = list(select) or [_module_of(path) for path in test_files]
            efsbx_unittest.run_project(names, emit_test, finish, report.Snapshot)
        else:
            import efsbx_pytest

            efsbx_pytest.run_pytest(None, emit_test, finish, report.Snapshot, targets=list(select or test_files))

    suites.serve_in_process(server, nonce, run)
