// Servers a fault test may stop: each is this test's OWN instance on a free port (never the machine's
// shared RabbitMQ, Redis or Docker engine), started here and stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/** Poll until `check` holds; throws after `timeoutMs` with `what` and the server's log tail. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${log ? `\n${log().slice(-2000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Send `signal` to `child` (ours) and wait for it to exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
  if (!alive(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => {
    if (alive(child)) child.kill('SIGKILL');
  }, graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A server process of our own that can be stopped and started again on the same port and data. */
export interface OwnServer {
  readonly port: number;
  readonly url: string;
  /** Pid of the running server process (undefined while stopped). */
  pid(): number | undefined;
  /** Stop it (SIGTERM: a clean stop; SIGKILL: a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  /** Stop it and remove its data for good. */
  dispose(): Promise<void>;
}

/**
 * A redis-server of our own. `persistent`: an append-only file in its own directory, so a stop and a
 * start keep the data (Redis unreachable for a while); `wipe()` before `start()` loses everything
 * (Redis restarted empty).
 */
export async function startOwnRedis(): Promise<OwnServer & { wipe(): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-faults-redis-'));
  let child: ChildProcess | undefined;
  let log = '';
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => (child && alive(child) ? child.pid : undefined),
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      await until(
        `redis-server on ${port}`,
        () => answers(port),
        20_000,
        () => log,
      );
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child) await stopChild(child, signal);
      child = undefined;
    },
    async wipe() {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    },
    async dispose() {
      await server.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/**
 * A RabbitMQ node of our own: its own node name, AMQP and distribution ports, data and log directories,
 * no plugins. Start-up takes 5-20 s, so a test file starts one and reuses it. Runs the server script as
 * root directly (the packaged wrapper would switch to the rabbitmq user, who cannot write our temp dir).
 */
export async function startOwnRabbit(
  label: string,
  opts: { config?: string[] } = {},
): Promise<OwnServer & { rabbitmqctl(...args: string[]): Promise<string> }> {
  const port = await freePort();
  const distPort = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), `evalfleet-faults-rabbit-${label}-`));
  const node = `efaults-${label}-${port}@localhost`;
  await writeFile(
    path.join(dir, 'rabbitmq.conf'),
    [`listeners.tcp.1 = 127.0.0.1:${port}`, ...(opts.config ?? [])].join('\n') + '\n',
  );
  await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
  };
  let script: ChildProcess | undefined;
  let log = '';
  const beamPid = async (): Promise<number | undefined> => {
    // The script stays the parent of the Erlang VM; the VM is what a SIGTERM/SIGKILL must reach.
    const pid = script?.pid;
    if (pid === undefined || !alive(script!)) return undefined;
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const first = children.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  };
  let currentBeam: number | undefined;
  const server = {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: () => currentBeam,
    async start() {
      script = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      script.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      script.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      await until(
        `rabbitmq node ${node} on ${port}`,
        () => answers(port),
        90_000,
        () => log,
      );
      currentBeam = await beamPid();
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const s = script;
      if (!s || !alive(s)) return;
      const exited = once(s, 'exit');
      const beam = (await beamPid()) ?? currentBeam;
      if (beam !== undefined) process.kill(beam, signal);
      else s.kill(signal);
      const timer = setTimeout(() => {
        if (beam !== undefined) {
          try {
            process.kill(beam, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, 30_000);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
      script = undefined;
      currentBeam = undefined;
    },
    async rabbitmqctl(...args: string[]): Promise<string> {
      // Unwrapped, as root like the node itself: the same Erlang cookie (the wrapper would switch users).
      const child = spawn('/usr/lib/rabbitmq/bin/rabbitmqctl', ['-n', node, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${out}`);
      return out;
    },
    async dispose() {
      await server.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/**
 * An s3rver of our own, in its own process (so it can be stopped by pid) over a directory that outlives it;
 * SIGTERM drains it (see s3rver-process.js), SIGKILL does not.
 */
export async function startOwnS3rver(): Promise<OwnServer & { endpoint: string }> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-faults-s3rver-'));
  let child: ChildProcess | undefined;
  let log = '';
  const server = {
    port,
    url: `http://127.0.0.1:${port}`,
    endpoint: `http://127.0.0.1:${port}`,
    pid: () => (child && alive(child) ? child.pid : undefined),
    async start() {
      child = spawn(process.execPath, [path.resolve('test/faults/support/s3rver-process.js'), dir, String(port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      await until(
        `s3rver on ${port}`,
        () => answers(port),
        20_000,
        () => log,
      );
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child) await stopChild(child, signal);
      child = undefined;
    },
    async dispose() {
      await server.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/**
 * A Docker engine of our own (its own socket, data root, exec root and pidfile; no iptables, no bridge:
 * sandboxes run without a network anyway), so a test can restart an engine without touching the
 * machine's, which other tests share. `loadImage` copies an image from the machine's engine into it.
 */
export async function startOwnDockerd(): Promise<
  OwnServer & { socket: string; docker(...args: string[]): Promise<string>; loadImage(image: string): Promise<void> }
> {
  // Short paths: the engine's and containerd's unix sockets live under them (108-byte limit).
  const dir = await mkdtemp(path.join('/tmp', 'efd-'));
  const socket = path.join(dir, 'docker.sock');
  let child: ChildProcess | undefined;
  let log = '';
  const exec = async (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(c, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${out.slice(-2000)}`);
    return out;
  };
  const docker = (...args: string[]) => exec('docker', ['-H', `unix://${socket}`, ...args]);
  const server = {
    port: 0,
    url: `unix://${socket}`,
    socket,
    pid: () => (child && alive(child) ? child.pid : undefined),
    docker,
    async start() {
      child = spawn(
        'dockerd',
        [
          '--iptables=false',
          '--ip6tables=false',
          '--bridge=none',
          '--host',
          `unix://${socket}`,
          '--data-root',
          path.join(dir, 'root'),
          '--exec-root',
          path.join(dir, 'exec'),
          '--pidfile',
          path.join(dir, 'docker.pid'),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      const started = child;
      await until(
        `dockerd on ${socket}`,
        async () => {
          if (!alive(started)) throw new Error(`dockerd exited: ${log.slice(-2000)}`);
          return docker('version').then(
            () => true,
            () => false,
          );
        },
        60_000,
        () => log,
      );
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child) await stopChild(child, signal, 30_000);
      child = undefined;
    },
    async loadImage(image: string) {
      await exec('sh', ['-c', 'docker save "$IMAGE" | docker -H "unix://$SOCKET" load'], {
        ...process.env,
        IMAGE: image,
        SOCKET: socket,
      });
    },
    async dispose() {
      if (child) {
        // Our engine's containers go with it (there are only ours).
        await docker('ps', '-aq').then(
          async (ids) => {
            const list = ids.split('\n').filter(Boolean);
            if (list.length > 0) await docker('rm', '-f', ...list).catch(() => undefined);
          },
          () => undefined,
        );
      }
      await server.stop('SIGTERM');
      // A mount the engine left behind would keep its data root busy.
      const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
      for (const line of mounts.split('\n').reverse()) {
        const target = line.split(' ')[1];
        if (target?.startsWith(dir)) await exec('umount', ['-l', target]).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
