"""evalfleet sandbox supervisor: runs untrusted test jobs one at a time, each as its own uid.

Protocol (line-delimited JSON; requests on stdin, replies on stdout, logs on stderr):
  <- {"op": "ready", "protocol": 1, "mode": ..., "python": ...}          once, at start
  -> {"op": "run", "id": ..., "job": {runner, code, tests, ...}, "limits": {...}}
  <- {"op": "result", "id": ..., "verdict": ..., "tests": [...], "stdout": ..., "recycle": bool, ...}
  -> {"op": "ping", "id": ...}   <- {"op": "pong", "id": ...}
  -> {"op": "shutdown"}          (or EOF on stdin) ends the supervisor.
A reply with "recycle": true means the supervisor could not prove the job left nothing behind (or hit an
internal error): the caller must discard this container. See README.md beside this file for the design.

Modes: "docker" (uid 0 in a hardened container with CAP_SETUID/CAP_SETGID only; jobs get uids from a
private range) and "process" (no isolation: same uid as the caller, rlimits and a timeout only).
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
import traceback

import efsbx_runners as runners
import supervisor_cleanup as cleanup
import supervisor_spawn as spawn
import supervisor_verdict as verdicts

PROTOCOL = 1
DEFAULT_LIMITS = {
    "timeoutMs": 10000,
    "memoryBytes": 512 * 1024 * 1024,
    "outputBytes": 256 * 1024,
    "fileBytes": 16 * 1024 * 1024,
    "openFiles": 256,
    "processes": 64,
}
DRAIN_S = 1.0
EXIT_WAIT_S = 2.0
CHECKER_GRACE_S = 2.0  # the checker starts its clock when it gets its spec, a little after we do
CANDIDATE_EXIT_GRACE_S = 0.05
CHECKER_MEMORY = 512 * 1024 * 1024


def log(message):
    sys.stderr.write("supervisor: " + message + "\n")
    sys.stderr.flush()


class UidPool:
    """Hands out job uids round-robin from a private range, skipping any uid that still owns a process."""

    def __init__(self, base, count):
        self.uids = list(range(base, base + count))
        self.next = 0

    def take(self):
        for _ in range(len(self.uids)):
            uid = self.uids[self.next]
            self.next = (self.next + 1) % len(self.uids)
            if not cleanup.live_pids_of(uid):
                return uid
        raise RuntimeError("every job uid still owns a process")


class Supervisor:
    def __init__(self, args):
        self.mode = args.mode
        self.work = args.work
        self.uids = UidPool(args.uid_base, args.uid_count) if self.mode == "docker" else None
        # The checker's uid is outside the jobs' range: no job ever runs as it.
        self.checker_uid = args.uid_base + args.uid_count if self.mode == "docker" else None
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONUNBUFFERED": "1",
        }
        python = shutil.which(args.python) if args.python else sys.executable
        self.zygote = spawn.Zygote(python or sys.executable, self.env)
        if self.mode == "docker":
            # The container's init, this process and the zygote (our child, never reaped before close()).
            cleanup.skip_root_processes({1, os.getpid(), self.zygote.pid})
        self.next_job = None
        self.preloaded = set()

    def prepare(self):
        """Start the next job's processes now, so forking overlaps the wait for the next request."""
        if self.next_job is None:
            self.next_job = self._start_job()

    def close(self):
        if self.next_job is not None:
            self._finish_unused(self.next_job)
            self.next_job = None
        self.zygote.close()

    def _start_job(self):
        if self.uids:
            uid = self.uids.take()
            job_dir = _make_dir(self.work, "j", uid)
            checker_dir = _make_dir(self.work, "k", self.checker_uid)
        else:
            uid = None
            job_dir = tempfile.mkdtemp(prefix="evalfleet-job-", dir=self.work)
            checker_dir = tempfile.mkdtemp(prefix="evalfleet-checker-", dir=self.work)
        return spawn.Job(self.zygote, job_dir, uid, checker_dir, self.checker_uid)

    def _preload(self, runner):
        """What `runner` needs into the zygote (once each): the pair forked ahead of time lacks it, so it is
        replaced."""
        needed = [name for name in runners.preloads(runner) if name not in self.preloaded]
        if not needed:
            return
        for name in needed:
            self.zygote.preload(name)
            self.preloaded.add(name)
        if self.next_job is not None:
            job, self.next_job = self.next_job, None
            anomaly = self._finish_unused(job)
            if anomaly:
                raise RuntimeError("a runner started ahead of time left something behind: " + anomaly)

    def _kill(self, job):
        if job.uid is not None:
            if not cleanup.processes_by_uid({job.uid, job.checker_uid}):
                return None  # both ended on their own: nothing of either uid is left to fork another
            ok = cleanup.kill_uid(job.uid) and cleanup.kill_uid(job.checker_uid)
            return None if ok else "processes survived SIGKILL"
        cleanup.kill_process_group(job.pid)
        cleanup.kill_process_group(job.checker_pid)
        return None

    def _clean_up(self, job):
        """Kill whatever the job left and remove its files; None when provably clean."""
        anomaly = self._kill(job)
        if job.uid is not None:
            anomaly = anomaly or cleanup.reap_uid(job.uid, [job.job_dir])
            # The checker (trusted) only leaves flat files, which root may unlink from its own directory;
            # anything else takes the deleter, as for a job.
            if anomaly is None and cleanup.remove_dir(job.checker_dir) is not None:
                anomaly = cleanup.reap_uid(job.checker_uid, [job.checker_dir])
            return anomaly
        return cleanup.remove_dir(job.job_dir) or cleanup.remove_dir(job.checker_dir)

    def _finish_unused(self, job):
        job.discard()
        anomaly = self._clean_up(job)
        job.wait_exits(time.monotonic() + EXIT_WAIT_S)
        return anomaly

    def _job_for(self, make_specs):
        """A pair of processes that accepted the job, or (None, error text) when two in a row failed."""
        error = None
        for _ in range(2):
            try:
                job, self.next_job = self.next_job or self._start_job(), None
            except Exception as exc:  # noqa: BLE001 - reported as spawn_failed, the container is replaced
                return None, "%s: %s" % (type(exc).__name__, exc)
            if job.dispatch(*make_specs(job)):
                return job, None
            error = "a job process exited before it got its job"
            anomaly = self._finish_unused(job)
            if anomaly:
                return None, error + "; " + anomaly
        return None, error

    def run(self, request):
        job_spec = request.get("job") or {}
        self._preload(job_spec.get("runner"))  # before the job's clock (calibrations time jobs)
        started = time.monotonic()
        try:
            candidate_files, checker_files, fields, expected = spawn.job_files(job_spec)
        except spawn.InvalidJob as exc:
            return _reply(request, {"verdict": exc.verdict, "reason": exc.reason, "message": str(exc), "tests": []})
        limits = dict(DEFAULT_LIMITS)
        limits.update({k: v for k, v in (request.get("limits") or {}).items() if type(v) is int and v > 0})
        if "callTimeoutMs" not in limits or job_spec.get("runner") == "project":
            limits["callTimeoutMs"] = limits["timeoutMs"]  # a project's suite is one call into the candidate
        candidate_fields = dict(fields)
        for key in ("timeoutMs", "memoryBytes", "fileBytes", "openFiles", "processes"):
            candidate_fields["limit." + key] = limits[key]
        candidate_fields["isolated"] = "1" if self.uids else "0"
        checker_fields = dict(fields)
        checker_fields.update(
            {
                "limit.timeoutMs": limits["timeoutMs"],
                "limit.callTimeoutMs": min(limits["callTimeoutMs"], limits["timeoutMs"]),
                "limit.memoryBytes": max(limits["memoryBytes"], CHECKER_MEMORY),
                "limit.fileBytes": limits["fileBytes"],
                "limit.openFiles": 256,
                "limit.processes": 16,
                "limit.cpuSeconds": -(-limits["timeoutMs"] // 1000) + 10,
                "isolated": candidate_fields["isolated"],
            }
        )
        oom_before = _oom_kills()
        def make_specs(job):
            checker_fields["candidatePid"] = job.pid
            return spawn.encode_spec(candidate_fields, candidate_files), spawn.encode_spec(checker_fields, checker_files)

        job, error = self._job_for(make_specs)
        if job is None:
            body = {"verdict": "infra_error", "reason": "spawn_failed", "message": error, "tests": [], "recycle": True}
            return _reply(request, body)

        captures = {"out": spawn.Capture(limits["outputBytes"]), "err": spawn.Capture(limits["outputBytes"])}
        captures["res"] = spawn.ResultCapture()
        # The checker enforces the job's time limit itself and reports it; this is the backstop.
        timed_out = job.collect(started + limits["timeoutMs"] / 1000.0 + CHECKER_GRACE_S, captures)
        records = verdicts.parse_records(bytes(captures["res"].head))
        peak = _peak_from(records)
        if not timed_out:
            # With the checker gone, the candidate reads EOF and exits; a moment for that keeps its exit
            # status its own (0) instead of our SIGKILL.
            job.zygote.wait_exit_peek(job.pid, time.monotonic() + CANDIDATE_EXIT_GRACE_S)
        anomaly = self._clean_up(job)
        exits = job.wait_exits(time.monotonic() + EXIT_WAIT_S)
        job.drain(captures, time.monotonic() + DRAIN_S)
        candidate_exit = exits.get(job.pid)
        if candidate_exit:
            peak = max(peak, int(candidate_exit.get("maxrss", 0)))
        # Only when the checker saw the candidate end before the checks did is its exit status its own doing.
        own_exit = candidate_exit if _ended_on_its_own(records) else None
        decision = verdicts.decide(
            records,
            expected,
            {
                "timed_out": timed_out,
                "oom_kills": max(0, _oom_kills() - oom_before),
                "memory_limit": limits["memoryBytes"],
                "candidate_peak": peak,
                "candidate_exit": (own_exit["status"], own_exit["cpu"]) if own_exit else None,
                "cpu_limit": -(-limits["timeoutMs"] // 1000) + 1,
            },
        )
        exit_code, signal_number = spawn.exit_details(candidate_exit["status"] if candidate_exit else None)
        body = dict(decision)
        body.update(
            stdout=captures["out"].text(),
            stderr=captures["err"].text(),
            truncated=captures["out"].truncated or captures["err"].truncated,
            durationMs=round((time.monotonic() - started) * 1000.0, 3),
            exitCode=exit_code,
            signal=verdicts.signal_name(signal_number) if signal_number else None,
            recycle=anomaly is not None or decision["reason"] == "harness_error",
        )
        if anomaly:
            body["anomaly"] = anomaly
            log("recycle needed: " + anomaly)
        return _reply(request, body)


def _ended_on_its_own(records):
    return any(r.get("t") == "final" and r.get("reason") == "exit_before_checks" for r in records)


def _peak_from(records):
    for record in records:
        peak = record.get("candidatePeak") if record.get("t") == "final" else None
        if type(peak) is int and 0 <= peak < 1 << 50:
            return peak
    return 0


def _make_dir(work, prefix, uid):
    """/work/<prefix><random>, owned by root, group = the uid's gid, mode 0770 (jobs: j, checkers: k).

    /work is root's (0711), so a job can write nowhere but here; the name is random and /work unlistable.
    Creating the directory with the job's gid as our effective gid (CAP_SETGID) gives the job access to it
    without CAP_CHOWN; the job cannot chmod it (not its owner) and root removes it once the job's helper
    has emptied it.
    """
    job_dir = os.path.join(work, prefix + secrets.token_hex(8))
    os.setegid(uid)
    try:
        os.mkdir(job_dir, 0o770)
    finally:
        os.setegid(0)
    os.chmod(job_dir, 0o770)
    return job_dir


def _reply(request, body):
    reply = {"op": "result", "id": request.get("id")}
    reply.update(body)
    reply.setdefault("recycle", False)
    return reply


def _oom_kills():
    """The container's memory cgroup OOM-kill counter (cgroup v1 or v2), or 0 when unreadable."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mode", choices=("docker", "process"), default="docker")
    parser.add_argument("--work", default=None, help="job directories' parent (docker: /work)")
    parser.add_argument("--uid-base", type=int, default=None)
    parser.add_argument("--uid-count", type=int, default=64)
    parser.add_argument("--python", default=None)
    args = parser.parse_args(argv)
    if args.work is None:
        args.work = "/work" if args.mode == "docker" else tempfile.gettempdir()
    if args.uid_base is None:
        # Random, so containers sharing a kernel do not share job uids (RLIMIT_NPROC counts per uid).
        args.uid_base = 100000 + secrets.randbelow(1 << 20) * 256
    return args


def _protocol_channel():
    """Keep the real stdout for replies only; stray prints (ours or a library's) go to stderr."""
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def main(argv):
    args = _parse_args(argv)
    channel = _protocol_channel()

    def send(message):
        channel.write(json.dumps(message).encode() + b"\n")

    if args.mode == "docker" and os.geteuid() != 0:
        send({"op": "fatal", "reason": "the supervisor needs uid 0 with CAP_SETUID/CAP_SETGID in docker mode"})
        return 2
    try:
        supervisor = Supervisor(args)
    except Exception as exc:  # noqa: BLE001
        send({"op": "fatal", "reason": "could not start the zygote: %s" % exc})
        return 2
    _prepare_quietly(supervisor)
    send({"op": "ready", "protocol": PROTOCOL, "mode": args.mode, "python": platform.python_version()})

    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
        except (ValueError, AttributeError):
            send({"op": "error", "reason": "bad_request", "recycle": True})
            continue
        if op == "shutdown":
            break
        if op == "ping":
            send({"op": "pong", "id": request.get("id")})
        elif op == "run":
            try:
                reply = supervisor.run(request)
            except Exception:  # noqa: BLE001 - report it and ask to be replaced rather than die mid-protocol
                text = traceback.format_exc()
                log(text)
                reply = _reply(request, {"verdict": "infra_error", "reason": "supervisor_error", "message": text,
                                         "tests": [], "recycle": True})
            send(reply)
            if not reply.get("recycle"):
                _prepare_quietly(supervisor)
        else:
            send({"op": "error", "id": request.get("id"), "reason": "unknown_op", "recycle": True})
    supervisor.close()
    return 0


def _prepare_quietly(supervisor):
    # A failure here resurfaces, and is reported, when the next job needs a runner.
    try:
        supervisor.prepare()
    except Exception:  # noqa: BLE001
        log("could not start a runner ahead of time:\n" + traceback.format_exc())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
