import type { Integrity, SandboxCodeJob, Verdict } from './types.js';

/**
 * Hostile candidates, each with the verdict it must get. Every one of them is a WRONG solution (or a right one
 * doing something hostile on the side, where said so): none may pass. `attack-corpus.test.ts` runs them on
 * the Docker sandbox, each followed by a correct control in the same container, which must pass.
 */
export type Attack = {
  name: string;
  category:
    | 'harness forging'
    | 'shadowing'
    | 'always-equal'
    | 'frames and tracing'
    | 'result channel'
    | 'cross-job'
    | 'resources'
    | 'output'
    | 'laundering'
    | 'suites';
  job: Omit<SandboxCodeJob, 'jobId' | 'timeoutMs'> & { timeoutMs?: number };
  /** The verdict (or any of the verdicts) it must get, and optionally its reason and integrity. */
  expect: { verdict: Verdict | Verdict[]; reason?: string; integrity?: Integrity };
  /** A job run right after, in the same container, that must pass: it proves the attack left nothing. */
  probe?: Omit<SandboxCodeJob, 'jobId' | 'timeoutMs'>;
};

const ADD_CHECK = 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n';
const FRACTION_CHECK =
  'def check(candidate):\n    assert abs(candidate(1.33) - 0.33) < 1e-6\n    assert abs(candidate(123.456) - 0.456) < 1e-6\n';

/** HumanEval/32-like: check() calls the prompt's helper `poly` on the candidate's answer. */
export const POLY_PROMPT =
  'import math\n\n\ndef poly(xs: list, x: float):\n    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))\n\n\n' +
  'def find_zero(xs: list):\n    """A root of the polynomial with coefficients xs."""\n';
export const POLY_CHECK =
  'def check(candidate):\n    for coeffs in ([-6, 11, -6, 1], [1, 2], [-2, 0, 1, 0]):\n' +
  '        assert abs(poly(coeffs, candidate(coeffs))) < 1e-4\n';

/** A HumanEval `add` job whose candidate is `code` (always wrong unless the attack says otherwise). */
function add(code: string, tests = ADD_CHECK): Attack['job'] {
  return { runner: 'humaneval', code, tests, entryPoint: 'add' };
}

function mbpp(code: string, tests: string, extra: Partial<SandboxCodeJob> = {}): Attack['job'] {
  return { runner: 'mbpp', code, tests, ...extra };
}

/** Python source from indented template text: the common leading indentation is removed. */
export function py(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return `${lines.map((l) => l.slice(indent)).join('\n')}\n`;
}

const FAILED = { verdict: 'failed' } as const;

/** Probe: the next job sees no process of another job, nothing planted, and its own fresh directory. */
const PROBE: Attack['probe'] = mbpp(
  py(`
    import glob, os
    def double(x):
        return x * 2
    def foreign():
        me, found = os.getuid(), []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/status" % pid) as handle:
                    fields = dict(l.split(":", 1) for l in handle.read().splitlines() if ":" in l)
            except OSError:
                continue
            uid = int(fields["Uid"].split()[0])
            if uid not in (0, me) and fields["State"].split()[0] != "Z" and fields["Name"].strip() != "checker":
                found.append((pid, uid, fields["Name"].strip()))
        return found
    def planted():
        found = []
        for pattern in ("/dev/shm/*", "/dev/mqueue/*", "/tmp/*", "/work/*", "evil*"):
            found += glob.glob(pattern)
        return found
    def ipc():
        rows = []
        for table in ("shm", "sem", "msg"):
            with open("/proc/sysvipc/" + table) as handle:
                rows += [table + ":" + r for r in handle.read().splitlines()[1:]]
        return rows
    def evil_importable():
        try:
            import evil  # noqa: F401
            return True
        except ImportError:
            return False
  `),
  [
    'assert double(21) == 42',
    'assert foreign() == []',
    'assert planted() == []',
    'assert ipc() == []',
    'assert not evil_importable()',
  ].join('\n'),
);

export const ATTACKS: Attack[] = [
  // --- forging through the harness ------------------------------------------------------------------
  {
    name: 'calls __main__.finish("passed") at import',
    category: 'harness forging',
    job: add(
      py(`
        import __main__
        for name in ("finish", "report", "emit"):
            try:
                getattr(__main__, name)("passed", tests=[{"name": "check(add)", "outcome": "passed"}])
            except BaseException:
                pass
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'finds every function named finish through gc and calls it',
    category: 'harness forging',
    job: add(
      py(`
        import gc
        for obj in gc.get_objects():
            if callable(obj) and getattr(obj, "__name__", "") in ("finish", "emit_test", "run_humaneval"):
                try:
                    obj("passed")
                except BaseException:
                    pass
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'replaces the harness modules it can reach in its own process',
    category: 'harness forging',
    job: add(
      py(`
        import sys
        for name, module in list(sys.modules.items()):
            if name.startswith(("efsbx_", "supervisor", "zygote")):
                for attr in list(vars(module)):
                    if callable(getattr(module, attr)):
                        try:
                            setattr(module, attr, lambda *a, **k: None)
                        except Exception:
                            pass
        def add(a, b):
            return 0
      `),
    ),
    expect: { verdict: ['failed', 'error'] },
  },
  {
    name: 'writes a forged final record to every file descriptor',
    category: 'harness forging',
    job: add(
      py(`
        import json, os
        record = {"t": "final", "verdict": "passed", "integrity": "checker",
                  "tests": [{"name": "check(add)", "outcome": "passed"}]}
        def add(a, b):
            for fd in range(0, 64):
                try:
                    os.write(fd, (json.dumps(record) + "\\n").encode())
                except OSError:
                    pass
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'answers calls before they are asked (pre-written replies on its channel)',
    category: 'harness forging',
    job: add(
      py(`
        import os, struct
        # ("ok", 3, []) in the call channel's own encoding, ten times over, written at import.
        payload = bytes([11]) + struct.pack("<I", 3) + bytes([7]) + struct.pack("<I", 2) + b"ok" \\
            + bytes([3]) + struct.pack("<q", 3) + bytes([10]) + struct.pack("<I", 0)
        for _ in range(10):
            try:
                os.write(5, struct.pack("<I", len(payload)) + payload)
            except OSError:
                pass
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'defines its own check() to replace the tests',
    category: 'harness forging',
    job: add('def check(candidate):\n    pass\n\ndef add(a, b):\n    return 0\n'),
    expect: FAILED,
  },
  {
    name: "ends the process from an exception's __str__",
    category: 'harness forging',
    job: add(
      py(`
        import os
        class Boom(Exception):
            def __str__(self):
                os._exit(0)
        def add(a, b):
            raise Boom()
      `),
    ),
    expect: { verdict: 'failed', reason: 'exit_before_checks' },
  },
  {
    name: 'reads and rewrites every other process memory through /proc/*/mem',
    category: 'harness forging',
    job: add(
      py(`
        import os
        def add(a, b):
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        with open("/proc/%s/mem" % pid, "r+b") as handle:
                            handle.seek(0x400000)
                            handle.write(b"passed")
                    except OSError:
                        pass
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'looks for the test code on disk to copy the expected answers',
    category: 'harness forging',
    job: add(
      py(`
        import glob
        def add(a, b):
            for path in glob.glob("/work/*/check.py") + glob.glob("/work/*/*.py") + glob.glob("../*/check.py"):
                return "found " + path
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'signals every process it can see (the checker included)',
    category: 'harness forging',
    job: add(
      py(`
        import os, signal
        def add(a, b):
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    for sig in (signal.SIGSTOP, signal.SIGKILL):
                        try:
                            os.kill(int(pid), sig)
                        except OSError:
                            pass
            return 0
      `),
    ),
    expect: FAILED,
  },
  // --- shadowed builtins and modules ----------------------------------------------------------------
  {
    name: 'shadows abs() as a module global',
    category: 'shadowing',
    job: add('abs = lambda x: 0\ndef add(x):\n    return 0.0\n', FRACTION_CHECK),
    expect: FAILED,
  },
  {
    name: 'replaces builtins.abs',
    category: 'shadowing',
    job: add('import builtins\nbuiltins.abs = lambda x: 0\ndef add(x):\n    return 0.0\n', FRACTION_CHECK),
    expect: FAILED,
  },
  {
    name: 'shadows range() so the checking loop never runs',
    category: 'shadowing',
    job: add(
      'range = lambda *args: []\ndef add(a, b):\n    return 0\n',
      'def check(candidate):\n    for i in range(50):\n        assert candidate(i, 1) == i + 1\n',
    ),
    expect: FAILED,
  },
  {
    name: 'patches builtins.isinstance',
    category: 'shadowing',
    job: add(
      'import builtins\nbuiltins.isinstance = lambda *a: True\ndef add(a, b):\n    return "3"\n',
      'def check(candidate):\n    assert isinstance(candidate(1, 2), int)\n',
    ),
    expect: FAILED,
  },
  {
    name: 'defines a fake math module the check relies on',
    category: 'shadowing',
    job: add(
      'class math:\n    @staticmethod\n    def isclose(a, b):\n        return True\ndef add(x):\n    return 0.0\n',
      'def check(candidate):\n    assert math.isclose(candidate(2.0), 4.0)\n',
    ),
    expect: FAILED,
  },
  {
    name: 'patches random so a randomised check only tries easy inputs',
    category: 'shadowing',
    job: add(
      'import random\nrandom.randint = lambda a, b: 0\nrandom.random = lambda: 0.0\ndef add(a, b):\n    return 0\n',
      'import random\ndef check(candidate):\n    for _ in range(20):\n        x, y = random.randint(1, 1000), random.randint(1, 1000)\n        assert candidate(x, y) == x + y\n',
    ),
    expect: FAILED,
  },
  {
    name: 'plants a fake math in sys.modules before the MBPP setup imports it',
    category: 'shadowing',
    job: mbpp(
      py(`
        import sys, types
        fake = types.ModuleType("math")
        fake.isclose = lambda *a, **k: True
        fake.pi = 3.14
        sys.modules["math"] = fake
        def area(r):
            return 0.0
      `),
      'assert math.isclose(area(2), 12.566)\nassert math.isclose(area(1), math.pi)',
      { setupCode: 'import math\n', entryPoint: 'area' },
    ),
    expect: FAILED,
  },
  {
    name: "redefines the prompt's helper that check() relies on (poly)",
    category: 'shadowing',
    job: {
      runner: 'humaneval',
      // The prompt (trusted: the dataset's) defines poly; the completion redefines it to make any root right.
      trustedCode: POLY_PROMPT,
      code: `${POLY_PROMPT}    return 0.0\n\n\ndef poly(xs, x):\n    return 0.0\n`,
      tests: POLY_CHECK,
      entryPoint: 'find_zero',
    },
    expect: FAILED,
  },
  // --- always-equal and numeric-subclass returns ----------------------------------------------------
  {
    name: 'returns an object equal to everything',
    category: 'always-equal',
    job: add(
      py(`
        class Everything:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __hash__(self): return 0
        def add(a, b):
            return Everything()
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'returns a float subclass close to everything',
    category: 'always-equal',
    job: add(
      py(`
        class Close(float):
            def __sub__(self, other): return 0.0
            def __rsub__(self, other): return 0.0
            def __abs__(self): return 0.0
            def __eq__(self, other): return True
            def __lt__(self, other): return True
            def __hash__(self): return 0
        def add(x):
            return Close(7.5)
      `),
      FRACTION_CHECK,
    ),
    expect: FAILED,
  },
  {
    name: 'returns an int subclass equal to everything',
    category: 'always-equal',
    job: add(
      'class I(int):\n    def __eq__(self, o): return True\n    __hash__ = int.__hash__\ndef add(a, b):\n    return I(0)\n',
    ),
    expect: FAILED,
  },
  {
    name: 'returns a str subclass equal to everything',
    category: 'always-equal',
    job: add(
      'class S(str):\n    def __eq__(self, o): return True\n    __hash__ = str.__hash__\ndef add(a, b):\n    return S("no")\n',
      'def check(candidate):\n    assert candidate("a", "b") == "ab"\n',
    ),
    expect: FAILED,
  },
  {
    name: 'returns a list subclass equal to everything',
    category: 'always-equal',
    job: add(
      'class L(list):\n    def __eq__(self, o): return True\ndef add(a, b):\n    return L()\n',
      'def check(candidate):\n    assert candidate([1], [2]) == [1, 2]\n',
    ),
    expect: FAILED,
  },
  {
    name: 'returns a dict subclass equal to everything',
    category: 'always-equal',
    job: add(
      'class D(dict):\n    def __eq__(self, o): return True\ndef add(a, b):\n    return D()\n',
      'def check(candidate):\n    assert candidate({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}\n',
    ),
    expect: FAILED,
  },
  {
    name: 'returns an object that contains everything',
    category: 'always-equal',
    job: add(
      'class All:\n    def __contains__(self, item): return True\ndef add(a, b):\n    return All()\n',
      'def check(candidate):\n    assert 3 in candidate(1, 2)\n    assert 0 in candidate(-1, 1)\n',
    ),
    expect: FAILED,
  },
  {
    name: 'returns an object whose comparisons all succeed',
    category: 'always-equal',
    job: add(
      py(`
        class Yes:
            def __lt__(self, o): return True
            def __gt__(self, o): return True
            def __le__(self, o): return True
            def __ge__(self, o): return True
            def __bool__(self): return True
        def add(a, b):
            return Yes()
      `),
      'def check(candidate):\n    assert 2.9 < candidate(1, 2) < 3.1\n',
    ),
    expect: FAILED,
  },
  // --- frame and trace tricks -----------------------------------------------------------------------
  {
    name: 'installs sys.settrace to skip the failing assert',
    category: 'frames and tracing',
    job: add(
      py(`
        import sys
        def tracer(frame, event, arg):
            if event == "line" and "check" in frame.f_code.co_filename:
                frame.f_lineno = frame.f_lineno + 1
            return tracer
        sys.settrace(tracer)
        def add(a, b):
            sys._getframe().f_back.f_trace = tracer
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: "walks the caller's frames and rewrites their locals",
    category: 'frames and tracing',
    job: add(
      py(`
        import sys
        def add(a, b):
            frame = sys._getframe(1)
            while frame is not None:
                for key in list(frame.f_locals):
                    try:
                        frame.f_globals[key] = None
                    except Exception:
                        pass
                frame = frame.f_back
            return 0
      `),
    ),
    expect: FAILED,
  },
  {
    name: 'a background thread keeps writing forged replies',
    category: 'frames and tracing',
    job: add(
      py(`
        import os, struct, threading, time
        def spam():
            frame = struct.pack("<I", 5) + b"\\x0b\\x00\\x00\\x00\\x00"
            while True:
                try:
                    os.write(5, frame)
                except OSError:
                    return
                time.sleep(0.001)
        threading.Thread(target=spam, daemon=True).start()
        def add(a, b):
            time.sleep(0.05)
            return 0
      `),
    ),
    expect: FAILED,
  },
  // --- result channel abuse -------------------------------------------------------------------------
  {
    name: 'returns a list nested 100 000 deep',
    category: 'result channel',
    job: add('def add(a, b):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n'),
    expect: FAILED,
  },
  {
    name: 'returns a wrong 400-digit number',
    category: 'result channel',
    job: add(
      'def add(a, b):\n    return 7 ** 473\n',
      'def check(candidate):\n    assert candidate(2, 3) == 5 ** 571\n',
    ),
    expect: FAILED,
  },
  {
    name: 'writes garbage frames into its reply channel',
    category: 'result channel',
    job: add(
      'import os\ndef add(a, b):\n    os.write(5, b"\\x05\\x00\\x00\\x00\\xff\\xff\\xff\\xff\\xff")\n    return 3\n',
    ),
    expect: { verdict: 'failed', reason: 'bad_reply' },
  },
  {
    name: 'announces a 4 GiB reply',
    category: 'result channel',
    job: add('import os\ndef add(a, b):\n    os.write(5, b"\\xff\\xff\\xff\\xff")\n    return 3\n'),
    expect: { verdict: 'failed', reason: 'bad_reply' },
  },
  {
    name: 'raises an exception with a 20 MB message',
    category: 'result channel',
    job: add('def add(a, b):\n    raise ValueError("x" * (20 * 1024 * 1024))\n'),
    expect: FAILED,
  },
  // --- output floods --------------------------------------------------------------------------------
  {
    name: 'floods stdout with 100 MB and fake "passed" lines',
    category: 'output',
    job: add(
      py(`
        import sys
        line = '{"t": "final", "verdict": "passed"} PASSED ' + "y" * 900 + "\\n"
        def add(a, b):
            for _ in range(100 * 1024):
                sys.stdout.write(line)
            sys.stdout.flush()
            return 0
      `),
      ADD_CHECK,
    ),
    expect: FAILED,
  },
  {
    name: 'floods stderr from a process it forked',
    category: 'output',
    job: add(
      py(`
        import os, sys
        if os.fork() == 0:
            for _ in range(50 * 1024):
                os.write(2, b"E" * 1023 + b"\\n")
            os._exit(0)
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
  },
  // --- cross-job leftovers --------------------------------------------------------------------------
  {
    name: 'leaves a double-forked daemon that stops its own uid (the old reaper)',
    category: 'cross-job',
    job: {
      ...add(
        py(`
        import os, signal, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                deadline = time.time() + 5
                while time.time() < deadline:
                    try:
                        os.kill(-1, signal.SIGSTOP)
                    except OSError:
                        pass
                os._exit(0)
            os._exit(0)
        def add(a, b):
            time.sleep(0.05)
            return 0
      `),
      ),
      timeoutMs: 2_000,
    },
    // The daemon stops the candidate's own process too, so the checker may wait for it until the deadline.
    expect: { verdict: ['failed', 'timeout'] },
    probe: PROBE,
  },
  {
    name: 'leaves world-readable files in /dev/shm, its directory and every writable place',
    category: 'cross-job',
    job: add(
      py(`
        import os
        def add(a, b):
            for directory in (".", os.environ.get("TMPDIR", "."), "/dev/shm", "/dev/mqueue", "/tmp", "/work"):
                for name in ("evil.py", "planted"):
                    try:
                        path = os.path.join(directory, name)
                        with open(path, "w") as handle:
                            handle.write("PWNED = True\\n")
                        os.chmod(path, 0o666)
                    except OSError:
                        pass
            return 0
      `),
    ),
    expect: FAILED,
    probe: PROBE,
  },
  {
    name: 'hands SysV shared memory, semaphores and a queue to root',
    category: 'cross-job',
    job: add(
      py(`
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        IPC_PRIVATE, IPC_CREAT, IPC_STAT, IPC_SET = 0, 0o1000, 2, 1
        class Perm(ctypes.Structure):
            _fields_ = [("key", ctypes.c_int), ("uid", ctypes.c_uint), ("gid", ctypes.c_uint),
                        ("cuid", ctypes.c_uint), ("cgid", ctypes.c_uint), ("mode", ctypes.c_ushort),
                        ("pad1", ctypes.c_ushort), ("seq", ctypes.c_ushort), ("pad2", ctypes.c_ushort),
                        ("unused1", ctypes.c_ulong), ("unused2", ctypes.c_ulong)]
        class ShmidDs(ctypes.Structure):
            _fields_ = [("perm", Perm), ("segsz", ctypes.c_size_t), ("atime", ctypes.c_long),
                        ("dtime", ctypes.c_long), ("ctime", ctypes.c_long), ("cpid", ctypes.c_int),
                        ("lpid", ctypes.c_int), ("nattch", ctypes.c_ulong), ("unused", ctypes.c_ulong * 2)]
        libc.shmat.restype = ctypes.c_void_p
        size = 8 * 1024 * 1024
        ident = libc.shmget(IPC_PRIVATE, size, IPC_CREAT | 0o666)
        assert ident >= 0, "shmget failed"
        address = libc.shmat(ident, None, 0)
        ctypes.memset(address, 1, size)
        libc.shmdt(ctypes.c_void_p(address))
        info = ShmidDs()
        libc.shmctl(ident, IPC_STAT, ctypes.byref(info))
        info.perm.uid = 0
        info.perm.gid = 0
        assert libc.shmctl(ident, IPC_SET, ctypes.byref(info)) == 0, "IPC_SET failed"
        libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o666)
        libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o666)
        with open("/proc/sysvipc/shm") as handle:
            assert " 0 " in handle.read(), "the segment should now belong to root"
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
    probe: PROBE,
  },
  {
    name: 'pins more SysV shared memory than the container can hold',
    category: 'cross-job',
    job: add(
      py(`
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        made = 0
        for _ in range(40):
            ident = libc.shmget(0, 16 * 1024 * 1024, 0o1000 | 0o666)
            if ident < 0:
                break
            address = libc.shmat(ident, None, 0)
            if address in (None, ctypes.c_void_p(-1).value):
                break
            ctypes.memset(address, 1, 16 * 1024 * 1024)
            libc.shmdt(ctypes.c_void_p(address))
            made += 1
        def add(a, b):
            return made
      `),
    ),
    expect: FAILED,
    // Had 160 MiB or more of segments survived, this correct job (which needs most of the container's
    // memory) would end oom.
    probe: mbpp(
      py(`
        def fill():
            blocks = [bytearray(16 * 1024 * 1024) for _ in range(12)]
            return sum(len(b) for b in blocks)
        def ipc():
            rows = []
            for table in ("shm", "sem", "msg"):
                with open("/proc/sysvipc/" + table) as handle:
                    rows += handle.read().splitlines()[1:]
            return rows
      `),
      'assert ipc() == []\nassert fill() == 12 * 16 * 1024 * 1024',
    ),
  },
  {
    name: 'locks its directories (chmod 000) and leaves a stopped child',
    category: 'cross-job',
    job: add(
      py(`
        import os, signal
        os.makedirs("a/b/c")
        with open("a/b/c/f", "w") as handle:
            handle.write("x")
        for path in ("a/b/c", "a/b", "a"):
            os.chmod(path, 0)
        pid = os.fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGSTOP)
            os._exit(0)
        def add(a, b):
            return 0
      `),
    ),
    expect: FAILED,
    probe: PROBE,
  },
  // --- resource exhaustion --------------------------------------------------------------------------
  {
    name: 'fork bomb',
    category: 'resources',
    job: {
      ...add(
        'import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n',
      ),
      timeoutMs: 1_500,
    },
    expect: { verdict: 'timeout' },
    probe: PROBE,
  },
  {
    name: 'memory hog',
    category: 'resources',
    job: add('def add(a, b):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n'),
    expect: { verdict: 'oom', reason: 'memory_limit' },
  },
  {
    name: 'infinite loop',
    category: 'resources',
    job: { ...add('def add(a, b):\n    while True:\n        pass\n'), timeoutMs: 1_000 },
    expect: { verdict: 'timeout' },
  },
  {
    name: 'sleeps past the deadline with the loop in a swallowing try/except',
    category: 'resources',
    job: { ...add('import time\ndef add(a, b):\n    time.sleep(30)\n'), timeoutMs: 1_000 },
    expect: { verdict: 'timeout', reason: 'wall_clock' },
  },
  {
    name: 'fills the disk and the file table',
    category: 'resources',
    job: add(
      py(`
        import os
        def add(a, b):
            handles = []
            try:
                while True:
                    handles.append(open("fill%d" % len(handles), "w"))
            except OSError:
                pass
            try:
                with open("big", "wb") as handle:
                    while True:
                        handle.write(b"x" * (1 << 20))
            except OSError:
                pass
            return 0
      `),
    ),
    expect: FAILED,
    probe: PROBE,
  },
  {
    name: 'returns a 200 MB string',
    category: 'resources',
    job: add('def add(a, b):\n    return "x" * (200 * 1024 * 1024)\n'),
    expect: { verdict: ['failed', 'oom'] },
  },
  // --- verdict laundering ---------------------------------------------------------------------------
  {
    name: 'kills itself with SIGXCPU to look like a timeout',
    category: 'laundering',
    job: add('import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGXCPU)\n'),
    expect: { verdict: 'failed', reason: 'exit_before_checks' },
  },
  {
    name: 'prints MemoryError and raises it to look like oom',
    category: 'laundering',
    job: add('import sys\ndef add(a, b):\n    print("MemoryError", file=sys.stderr)\n    raise MemoryError()\n'),
    expect: { verdict: 'failed' },
  },
  {
    name: 'exits with status 0 before the checks',
    category: 'laundering',
    job: add('import os\ndef add(a, b):\n    os._exit(0)\n'),
    expect: { verdict: 'failed', reason: 'exit_before_checks' },
  },
  {
    name: 'raises SystemExit(0) at import',
    category: 'laundering',
    job: add('raise SystemExit(0)\ndef add(a, b):\n    return a + b\n'),
    expect: { verdict: 'failed', reason: 'exit_before_checks' },
  },
  // --- pytest / unittest suites ---------------------------------------------------------------------
  {
    name: 'pytest: the module patches pytest and unittest to hide failures',
    category: 'suites',
    job: {
      runner: 'pytest',
      code: py(`
        import unittest, _pytest.runner, _pytest.reports
        _pytest.reports.TestReport.outcome = "passed"
        unittest.TestCase.assertEqual = lambda *a, **k: None
        def add(a, b):
            return 0
      `),
      tests: 'from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n',
    },
    expect: { verdict: 'failed', integrity: 'checker' },
  },
  {
    name: 'pytest: `from solution import *` replaces pytest with a fake whose raises() swallows failures',
    category: 'suites',
    job: {
      runner: 'pytest',
      code: py(`
        import contextlib
        class _Fake:
            @staticmethod
            def raises(*args, **kwargs):
                return contextlib.suppress(BaseException)
            approx = staticmethod(lambda value, **kwargs: value)
        pytest = _Fake()
        abs = lambda value: 0
        __all__ = ["pytest", "abs", "add"]
        def add(a, b):
            return 0
      `),
      tests:
        'import pytest\nfrom solution import *\n\ndef test_add():\n    with pytest.raises(ZeroDivisionError):\n' +
        '        assert add(1, 2) == 3\n        1 / 0\n\ndef test_close():\n    assert abs(add(1, 2) - 3) < 1e-9\n',
    },
    expect: { verdict: 'failed', integrity: 'checker' },
  },
  {
    name: 'unittest: the module forges the suite report on its channel',
    category: 'suites',
    job: {
      runner: 'unittest',
      code: 'import os\nos.write(5, b"\\x00" * 64)\ndef add(a, b):\n    return 0\n',
      tests:
        'import unittest\nfrom solution import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n',
    },
    expect: { verdict: 'failed' },
  },
  {
    name: 'in-process suite: the module patches TestCase and builtins',
    category: 'suites',
    job: {
      runner: 'unittest',
      code: py(`
        import builtins, unittest
        unittest.TestCase.assertEqual = lambda self, a, b, msg=None: None
        builtins.len = lambda x: 0
        def add(a, b):
            return 0
      `),
      tests:
        'import unittest\nfrom unittest import mock\nimport solution\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        with mock.patch.object(solution, "add", wraps=solution.add):\n            self.assertEqual(solution.add(1, 2), 3)\n',
    },
    expect: { verdict: 'failed', integrity: 'in-process' },
  },
];

/** A correct solution run after each attack in the same container: it must pass. */
export const CONTROL: Attack['job'] = add('def add(a, b):\n    return a + b\n');
