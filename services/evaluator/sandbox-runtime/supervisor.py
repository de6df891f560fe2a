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
import signal
import sys
import tempfile
import time
import traceback

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
    def __init__(self, args, wake_fd):
        self.mode = args.mode
        self.work = args.work
        self.wake_fd = wake_fd
        self.uids = UidPool(args.uid_base, args.uid_count) if self.mode == "docker" else None
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONUNBUFFERED": "1",
            "EVALFLEET_PYTHON": args.python or sys.executable,
        }
        self.next_job = None

    def prepare(self):
        """Start the next job's runner now, so its Python start-up overlaps the wait for the next request."""
        if self.next_job is None:
            self.next_job = self._start_runner()

    def close(self):
        if self.next_job is not None:
            self._finish_unused(self.next_job)
            self.next_job = None

    def _start_runner(self):
        uid = self.uids.take() if self.uids else None
        if uid is not None:
            job_dir = _make_job_dir(self.work, uid)
        else:
            job_dir = tempfile.mkdtemp(prefix="evalfleet-job-", dir=self.work)
        return spawn.Job(job_dir, uid, self.env)

    def _clean_up(self, job):
        """Kill whatever the job left and remove its files; None when provably clean."""
        if job.uid is not None:
            return cleanup.reap_uid(job.uid, job.job_dir)
        cleanup.kill_process_group(job.pid)
        return cleanup.remove_job_dir(job.job_dir)

    def _finish_unused(self, job):
        job.discard()
        anomaly = self._clean_up(job)
        job.wait()
        return anomaly

    def _runner_for(self, spec_bytes):
        """A runner that accepted the job, or (None, error text) when two in a row failed to start."""
        error = None
        for _ in range(2):
            job, self.next_job = self.next_job or self._start_runner(), None
            if job.alive() and job.dispatch(spec_bytes):
                return job, None
            error = job.spawn_error or "the runner exited before it got its job"
            anomaly = self._finish_unused(job)
            if anomaly:
                return None, error + "; " + anomaly
        return None, error

    def run(self, request):
        started = time.monotonic()
        try:
            files, fields, expected = spawn.job_files(request.get("job") or {})
        except spawn.InvalidJob as exc:
            return _reply(request, {"verdict": "error", "reason": "invalid_job", "message": str(exc), "tests": []})
        limits = dict(DEFAULT_LIMITS)
        limits.update({k: v for k, v in (request.get("limits") or {}).items() if isinstance(v, int) and v > 0})
        nonce = secrets.token_hex(16)
        fields["nonce"] = nonce
        for key, value in limits.items():
            fields["limit." + key] = value
        fields["isolated"] = "1" if self.uids else "0"
        oom_before = _oom_kills()
        job, error = self._runner_for(spawn.encode_spec(fields, files))
        if job is None:
            body = {"verdict": "infra_error", "reason": "spawn_failed", "message": error, "tests": [], "recycle": True}
            return _reply(request, body)

        captures = {"out": spawn.Capture(limits["outputBytes"]), "err": spawn.Capture(limits["outputBytes"])}
        captures["res"] = spawn.ResultCapture()

        def kill_job():
            if job.uid is not None:
                cleanup.reap_uid(job.uid, None)
            else:
                cleanup.kill_process_group(job.pid)

        timed_out = job.collect(time.monotonic() + limits["timeoutMs"] / 1000.0, captures, self.wake_fd, kill_job)
        anomaly = self._clean_up(job)
        job.drain(captures, time.monotonic() + DRAIN_S)
        duration_ms = (time.monotonic() - started) * 1000.0
        exit_code, signal_number = spawn.exit_details(job.exit_status)
        stderr_text = captures["err"].text()
        decision = verdicts.decide(
            verdicts.parse_records(bytes(captures["res"].head)),
            nonce,
            expected,
            {
                "timed_out": timed_out,
                "exit_code": exit_code,
                "signal": signal_number,
                "oom_kills": max(0, _oom_kills() - oom_before),
                "memory_error_in_stderr": "MemoryError" in stderr_text[-2000:],
            },
        )
        body = dict(decision)
        body.update(
            stdout=captures["out"].text(),
            stderr=stderr_text,
            truncated=captures["out"].truncated or captures["err"].truncated,
            durationMs=round(duration_ms, 3),
            exitCode=exit_code,
            signal=verdicts.signal_name(signal_number) if signal_number else None,
            recycle=anomaly is not None,
        )
        if anomaly:
            body["anomaly"] = anomaly
            log("recycle needed: " + anomaly)
        return _reply(request, body)


def _make_job_dir(work, uid):
    """/work/j<random>, owned by root, group = the job's gid, mode 0770.

    /work is root's (0711), so a job can write nowhere but here; the name is random and /work unlistable.
    Creating the directory with the job's gid as our effective gid (CAP_SETGID) gives the job access to it
    without CAP_CHOWN; the job cannot chmod it (not its owner) and root removes it once the job's helper
    has emptied it.
    """
    job_dir = os.path.join(work, "j" + secrets.token_hex(8))
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
    wake_r, wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    supervisor = Supervisor(args, wake_r)
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
