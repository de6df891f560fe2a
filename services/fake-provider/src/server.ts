import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompletionEngine, type Arrival, type EngineOptions } from './completions.js';
import { parseProblems, type Problem } from './problems.js';
import { parseRepairBugs } from './repair.js';

export interface FakeProviderOptions extends Omit<EngineOptions, 'problems'> {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** A JSONL problem set; or pass `problems` already parsed. */
  datasetText?: string;
  /** A repair dataset whose lines carry a `fix` (datasets/repair-example.jsonl). */
  repairText?: string;
  problems?: Problem[];
}

export interface FakeProvider {
  /** Base URL for an OpenAI client, ending in `/v1`. */
  url: string;
  port: number;
  log(): Arrival[];
  /** Forget arrivals, rate-limit windows and retry counters. */
  reset(): void;
  close(): Promise<void>;
}

const maxBodyBytes = 8 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Start an OpenAI-compatible fake provider on loopback (or `host`). */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const problems = options.problems ?? (options.datasetText === undefined ? [] : parseProblems(options.datasetText));
  const bugs = options.bugs ?? (options.repairText === undefined ? [] : parseRepairBugs(options.repairText));
  const engine = new CompletionEngine({ ...options, problems, bugs });
  const pending = new Set<() => void>();

  async function completions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, JSON.stringify({ error: { message: 'request body too large', type: 'invalid_request_error' } }));
      return;
    }
    const reply = engine.handle(body);
    if (reply.kind === 'hang') {
      // Hold the request open until the client gives up or the server closes.
      const release = (): void => {
        pending.delete(release);
        res.destroy();
      };
      pending.add(release);
      res.once('close', () => pending.delete(release));
      return;
    }
    if (reply.delayMs <= 0) {
      send(res, reply.status, reply.body, reply.headers);
      return;
    }
    const timer = setTimeout(() => {
      pending.delete(cancel);
      send(res, reply.status, reply.body, reply.headers);
    }, reply.delayMs);
    const cancel = (): void => {
      clearTimeout(timer);
      pending.delete(cancel);
    };
    pending.add(cancel);
    res.once('close', cancel);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, JSON.stringify({ status: 'ok' }));
    if (req.method === 'GET' && path === '/_log') return send(res, 200, JSON.stringify(engine.log()));
    if (req.method === 'POST' && path === '/_reset') {
      engine.reset();
      return send(res, 200, JSON.stringify({ status: 'reset' }));
    }
    if (path.startsWith('/v1/') && !engine.authorized(req.headers.authorization)) {
      // Echoes the key unmasked, unlike OpenAI, so tests prove the client redacts what providers send back.
      const given = req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
      const error = {
        message: `Incorrect API key provided: ${given}.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      };
      return send(res, 401, JSON.stringify({ error }));
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const data = engine.modelIds().map((id) => ({ id, object: 'model', created: 0, owned_by: 'evalfleet-fake' }));
      return send(res, 200, JSON.stringify({ object: 'list', data }));
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return completions(req, res);
    send(
      res,
      404,
      JSON.stringify({ error: { message: `no route for ${req.method} ${path}`, type: 'invalid_request_error' } }),
    );
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      send(
        res,
        500,
        JSON.stringify({ error: { message: `fake provider crashed: ${String(err)}`, type: 'server_error' } }),
      );
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    log: () => engine.log(),
    reset: () => engine.reset(),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const release of [...pending]) release();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // Idle keep-alive sockets would hold close() open until they time out.
        server.closeIdleConnections();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
