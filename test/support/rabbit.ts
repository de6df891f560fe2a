// Helpers for tests against the real RabbitMQ: unique namespaces, clean-up, closing a test's own
// connection from the broker side, and polling.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connect, type Channel } from 'amqplib';
import { z } from 'zod';
import {
  connectBroker,
  deleteTopology,
  isBatchBody,
  type BrokerConnection,
  type BrokerOptions,
} from '../../shared/src/broker/index.js';
import { createLogger, type Logger } from '../../shared/src/logger/index.js';
import { builtinKinds } from '../../shared/src/kinds/index.js';
import { makeEnvelope, MessageCatalog, type CatalogEntry, type Envelope } from '../../shared/src/messages/index.js';
import { KindRegistry } from '../../shared/src/workflow/index.js';

const run = promisify(execFile);

export const rabbitUrl = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Tiny delay tiers so retries come back within a test's patience. */
export const testDelayTiersMs = [200, 400] as const;

export function uniqueNamespace(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Logs at debug level so every log call is really serialised (a logging bug must fail the tests),
 * into the void unless TEST_LOG_LEVEL asks to see them.
 */
export function testLogger(): Logger {
  const level = process.env.TEST_LOG_LEVEL;
  return level
    ? createLogger({ service: 'test' }, { level })
    : createLogger({ service: 'test' }, { level: 'trace', destination: { write: () => undefined } });
}

/** Connect with test defaults (tiny tiers, small delivery limit, a connection name to find it by). */
export function connectTest(ns: string, overrides: Partial<BrokerOptions> = {}): Promise<BrokerConnection> {
  return connectBroker({
    url: rabbitUrl,
    namespace: ns,
    logger: testLogger(),
    delayTiersMs: testDelayTiersMs,
    deliveryLimit: 3,
    connectionName: `${ns}-${randomBytes(3).toString('hex')}`,
    reconnectBackoff: { baseMs: 50, capMs: 500 },
    catalog: testCatalog(),
    ...overrides,
  });
}

/** Run `fn` on a plain channel of a separate connection (to look at queues behind the library's back). */
export async function withRawChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
  const conn = await connect(rabbitUrl);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    return await fn(ch);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * A test file's broker namespaces: `setup(label)` connects to a fresh one; `cleanup()` (in afterEach)
 * closes the connections and deletes the namespaces, newest first.
 */
export class BrokerScope {
  private readonly cleanups: (() => Promise<void>)[] = [];

  async setup(label: string, overrides: Partial<BrokerOptions> = {}): Promise<{ ns: string; conn: BrokerConnection }> {
    const ns = uniqueNamespace(label);
    this.cleanups.push(() => deleteNamespace(ns));
    const conn = await connectTest(ns, overrides);
    this.cleanups.push(() => conn.close({ drainTimeoutMs: 1_000 }));
    return { ns, conn };
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c();
  }
}

/** A broker test's job `n` on the generate stage (payload `{ n, mode }`). */
export function testJob(n: number, mode = 'ok', type: string = testTypes.work.type): Envelope {
  return makeEnvelope({
    type,
    runId: 'run-1',
    jobId: `job-${n}`,
    kind: 'echo',
    stage: 'generate',
    payload: { n, mode },
  });
}

/** Delete every queue and exchange of a test namespace. */
export async function deleteNamespace(ns: string, delayTiersMs: readonly number[] = testDelayTiersMs): Promise<void> {
  await withRawChannel((ch) => deleteTopology(ch, ns, { delayTiersMs }));
}

/** Ready messages in a queue. */
export function queueDepth(queue: string): Promise<number> {
  return withRawChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
}

/**
 * Jobs in a queue's ready messages (a batch message holds several): takes every message, counts, and
 * hands them all back (so they come back redelivered).
 */
export async function queuedJobs(queue: string): Promise<number> {
  return (await queuedMessages(queue)).jobs;
}

/** `queuedJobs`, with the number of messages they came in. */
export function queuedMessages(queue: string): Promise<{ jobs: number; messages: number }> {
  return withRawChannel(async (ch) => {
    let jobs = 0;
    let messages = 0;
    for (let m = await ch.get(queue, { noAck: false }); m; m = await ch.get(queue, { noAck: false })) {
      const body: unknown = isBatchBody(m.content) ? JSON.parse(m.content.toString('utf8')) : undefined;
      jobs += Array.isArray(body) ? body.length : 1;
      messages += 1;
    }
    ch.nackAll(true);
    return { jobs, messages };
  });
}

/**
 * Close, from the broker side, the connections whose `connection_name` is `name` (only this test's
 * own connection; `rabbitmqctl close_connection` does not stop the broker). Returns how many.
 */
export async function closeConnectionNamed(name: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q']);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0] ?? '')
    .filter((pid) => pid.startsWith('<'));
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'test closes the connection']);
  return pids.length;
}

/** Poll `check` until it returns a truthy value; fail with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const testWorkSchema = z.object({ n: z.number().int(), mode: z.string().default('ok') });

/** Message types the broker tests use (registered once per test process). */
export const testTypes = {
  work: {
    type: 'test.broker.work',
    stage: 'generate',
    schema: testWorkSchema,
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, delaysMs: [200, 400] },
    description: 'broker tests: a job in the generate stage',
  },
  short: {
    type: 'test.broker.short',
    stage: 'generate',
    schema: testWorkSchema,
    timeoutMs: 250,
    retry: { maxAttempts: 2, delaysMs: [200] },
    description: 'broker tests: a job whose handler must finish within 250 ms',
  },
} as const satisfies Record<string, CatalogEntry>;

let catalog: MessageCatalog | undefined;

/** The built-in kinds' message types plus the broker tests' own, any kind allowed in envelopes. */
export function testCatalog(): MessageCatalog {
  catalog ??= new MessageCatalog([...new KindRegistry(builtinKinds).catalog.entries(), ...Object.values(testTypes)]);
  return catalog;
}
