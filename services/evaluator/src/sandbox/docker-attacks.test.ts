import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createDockerSandbox,
  ensureSandboxImage,
  type Sandbox,
  type SandboxCodeJob,
  type SandboxJob,
} from './index.js';
import { dockerForTests } from './docker-available.test-support.js';

// Hostile jobs against a one-container pool, so each attack and the job after it share a container: the
// point is that the attack is contained AND the same container stays healthy (it is not even recycled).
const { docker, dockerUp } = await dockerForTests('Docker sandbox attack tests');

let counter = 0;
function mbpp(code: string, tests: string, extra: Partial<SandboxCodeJob> = {}): SandboxJob {
  return { jobId: `attack-${++counter}`, runner: 'mbpp', code, tests, timeoutMs: 10_000, ...extra };
}

const HEALTHY = mbpp('def double(x):\n    return x * 2\n', 'assert double(21) == 42');

/**
 * A probe run as the next job: no process of another job's uid exists (the job's own checker, named
 * "checker", runs beside it), nothing foreign is in /dev/shm. Everything it looks at, it looks at from the
 * candidate's process: the asserts themselves run in the checker.
 */
const PROBE_CODE = `
import os
def foreign_processes():
    me, found = os.getuid(), []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/status' % pid) as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        name = [l for l in lines if l.startswith('Name:')][0].split()[1]
        uid = int([l for l in lines if l.startswith('Uid:')][0].split()[1])
        state = [l for l in lines if l.startswith('State:')][0].split()[1]
        if uid not in (0, me) and state != 'Z' and name != 'checker':
            found.append((pid, uid))
    return found
def exists(path):
    return os.path.exists(path)
def own_source():
    with open("solution.py") as handle:
        return handle.read()
def own_directory():
    return sorted(os.listdir("."))
`;

describe.skipIf(!dockerUp)('docker sandbox under attack', () => {
  let sandbox: Sandbox;
  let poolId: string;

  async function containerIds(): Promise<string[]> {
    const list = await docker.listContainers({ filters: { label: [`org.evalfleet.sandbox.pool=${poolId}`] } });
    return list.map((c) => c.Id).sort();
  }

  /** Run an attack, then prove the same container still evaluates a normal job correctly. */
  async function contained(attack: SandboxJob): Promise<Awaited<ReturnType<Sandbox['run']>>> {
    const before = await containerIds();
    const result = await sandbox.run(attack);
    const next = await sandbox.run({ ...HEALTHY, jobId: `healthy-${++counter}` });
    expect(next).toMatchObject({ verdict: 'passed' });
    expect(await containerIds()).toEqual(before);
    return result;
  }

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 1, memoryMb: 256 });
    poolId = /pool (\w+)/.exec(sandbox.describe())![1]!;
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('contains a fork bomb (per-uid process limit) and kills all of it', async () => {
    const bomb = 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n';
    const result = await contained(mbpp(bomb, 'assert True', { timeoutMs: 2_000 }));
    expect(result.verdict).toBe('timeout');
  });

  it('turns a memory hog into oom', async () => {
    const hog = 'blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n';
    const result = await contained(mbpp(hog, 'assert True', { timeoutMs: 20_000 }));
    expect(result).toMatchObject({ verdict: 'oom', reason: 'memory_limit' });
  });

  it('times out an infinite loop', async () => {
    const result = await contained(mbpp('while True:\n    pass\n', 'assert True', { timeoutMs: 1_000 }));
    expect(result).toMatchObject({ verdict: 'timeout', reason: 'wall_clock' });
  });

  it('has no network: a connect attempt fails and the verdict comes from the tests', async () => {
    const code =
      'import socket\n' +
      'def reach(host, port):\n' +
      '    try:\n' +
      '        socket.create_connection((host, port), timeout=2).close()\n' +
      '        return "connected"\n' +
      '    except OSError as exc:\n' +
      '        return type(exc).__name__\n';
    const result = await contained(
      mbpp(code, 'assert reach("1.1.1.1", 80) != "connected"\nassert reach("8.8.8.8", 53) != "connected"'),
    );
    expect(result).toMatchObject({ verdict: 'passed' });
    const blocked = await sandbox.run(mbpp(code, 'assert reach("1.1.1.1", 80) == "connected"'));
    expect(blocked).toMatchObject({ verdict: 'failed' });
  });

  it('cannot write outside its own directory', async () => {
    const code =
      'import os\n' +
      'def writable(path):\n' +
      '    try:\n' +
      '        with open(path, "w") as handle:\n' +
      '            handle.write("x")\n' +
      '        return True\n' +
      '    except OSError:\n' +
      '        return False\n' +
      'def tmpdir():\n' +
      '    return os.environ["TMPDIR"]\n';
    const tests = [
      'assert writable("inside.txt")',
      'assert writable(os.path.join(tmpdir(), "tmpfile"))',
      'assert not writable("/work/escape")',
      'assert not writable("/tmp/escape")',
      'assert not writable("/escape")',
      'assert not writable("/etc/passwd")',
      'assert not writable("/opt/evalfleet/runtime/runner.py")',
      'assert not writable("/usr/lib/python3.11/os.py")',
    ].join('\n');
    const result = await contained(mbpp(code, tests));
    expect(result.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
    expect(result.verdict).toBe('passed');
  });

  it('caps 100 MB of output and marks it truncated', async () => {
    const code =
      'import sys\nline = "y" * 1023 + "\\n"\nfor _ in range(100 * 1024):\n    sys.stdout.write(line)\nsys.stdout.flush()\n';
    const result = await contained(mbpp(code, 'assert True', { timeoutMs: 30_000 }));
    expect(result).toMatchObject({ verdict: 'passed', truncated: true });
    expect(result.stdout.length).toBeLessThan(300 * 1024);
    expect(result.stdout).toMatch(/bytes truncated/);
  });

  it('a double-forked daemon cannot touch the next job, and is gone before it starts', async () => {
    // The daemon outlives its job by design; for 3 s it tries every way it has to reach the next job's
    // directory and processes, and to leave something for it to find.
    const daemon =
      'import glob, os, time\n' +
      'if os.fork() == 0:\n' +
      '    os.setsid()\n' +
      '    if os.fork() == 0:\n' +
      '        with open("daemon-alive", "w") as handle:\n' +
      '            handle.write(str(os.getpid()))\n' +
      '        deadline = time.time() + 3\n' +
      '        while time.time() < deadline:\n' +
      '            for pattern in ("/work/*/solution.py", "/work/*/*", "/proc/*/cwd/solution.py", "/proc/*/root/work/*/solution.py"):\n' +
      '                for path in glob.glob(pattern):\n' +
      '                    try:\n' +
      '                        with open(path, "w") as handle:\n' +
      '                            handle.write("def double(x):\\n    return 0\\n")\n' +
      '                    except OSError:\n' +
      '                        pass\n' +
      '            for name in ("/dev/shm/planted", "/work/planted"):\n' +
      '                try:\n' +
      '                    with open(name, "w") as handle:\n' +
      '                        handle.write("x")\n' +
      '                except OSError:\n' +
      '                    pass\n' +
      '            time.sleep(0.005)\n' +
      '        os._exit(0)\n' +
      '    os._exit(0)\n' +
      'def daemon_started():\n' +
      '    for _ in range(200):\n' +
      '        if os.path.exists("daemon-alive"):\n' +
      '            return True\n' +
      '        time.sleep(0.01)\n' +
      '    return False\n';
    const before = await containerIds();
    const first = await sandbox.run(mbpp(daemon, 'assert daemon_started()'));
    expect(first.integrity).toBe('checker');
    expect(first.verdict).toBe('passed');

    const intact = 'def double(x):\n    return x * 2\n';
    const probe = await sandbox.run(
      mbpp(
        `${intact}${PROBE_CODE}`,
        [
          `assert own_source().startswith(${JSON.stringify(intact)})`,
          'assert double(21) == 42',
          'assert foreign_processes() == []',
          'assert not exists("/dev/shm/planted")',
          'assert not exists("/work/planted")',
          'assert own_directory() == ["solution.py"]',
        ].join('\n'),
      ),
    );
    expect(probe.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
    expect(probe.verdict).toBe('passed');
    // The per-job clean-up did it, not the fallback of replacing the container.
    expect(await containerIds()).toEqual(before);
  });

  it("cannot read the previous job's files or see its directory", async () => {
    const leaver =
      'import os\n' +
      'with open("secret.txt", "w") as handle:\n' +
      '    handle.write("s3cret")\n' +
      'os.chmod("secret.txt", 0o666)\n' +
      'with open("/dev/shm/where", "w") as handle:\n' +
      '    handle.write(os.getcwd())\n' +
      'os.chmod("/dev/shm/where", 0o666)\n' +
      'def left():\n' +
      '    return os.path.exists("secret.txt")\n';
    const first = await sandbox.run(mbpp(leaver, 'assert left()'));
    expect(first.verdict).toBe('passed');
    const reader =
      'import glob, os\n' +
      'def peek():\n' +
      '    try:\n' +
      '        return os.listdir("/work")\n' +
      '    except PermissionError:\n' +
      '        return "denied"\n' +
      'def exists(path):\n' +
      '    return os.path.exists(path)\n' +
      'def secrets_found():\n' +
      '    return glob.glob("/work/*/secret.txt")\n';
    const second = await contained(
      mbpp(
        reader,
        ['assert peek() == "denied"', 'assert not exists("/dev/shm/where")', 'assert secrets_found() == []'].join('\n'),
      ),
    );
    expect(second.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
  });

  it('runs each job as a fresh unprivileged uid with no capabilities', async () => {
    const code =
      'import os\n' +
      'def status(field):\n' +
      '    with open("/proc/self/status") as handle:\n' +
      '        return [l.split(":", 1)[1].strip() for l in handle if l.startswith(field + ":")][0]\n';
    const tests = [
      'assert os.getuid() >= 100000',
      'assert int(status("CapEff"), 16) == 0',
      'assert int(status("CapPrm"), 16) == 0',
      'assert status("NoNewPrivs") == "1"',
    ].join('\n');
    const result = await contained(mbpp(code, tests));
    expect(result.tests.filter((t) => t.outcome !== 'passed')).toEqual([]);
  });
});
