// A TCP proxy on loopback in front of one of our own servers, to make it slow without touching it:
// every chunk waits `delayMs` before it is passed on (in both directions, in order).
import { createServer, Socket, type Server } from 'node:net';

export interface SlowProxy {
  readonly port: number;
  readonly url: string;
  /** Delay of every chunk from now on (0: pass straight through). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, delay: () => number): void {
  // A chain keeps chunks in order even when the delay changes between two of them.
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    chain = chain.then(
      () =>
        new Promise<void>((resolve) => {
          const send = () => {
            if (!to.destroyed) to.write(chunk);
            resolve();
          };
          if (ms > 0) setTimeout(send, ms);
          else send();
        }),
    );
  });
  from.on('end', () => void chain.then(() => to.end()));
  from.on('error', () => to.destroy());
  from.on('close', () => void chain.then(() => to.destroy()));
}

export async function startSlowProxy(targetPort: number, initialDelayMs = 0): Promise<SlowProxy> {
  let delayMs = initialDelayMs;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    upstream.connect(targetPort, '127.0.0.1');
    pipeDelayed(client, upstream, () => delayMs);
    pipeDelayed(upstream, client, () => delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => {
      delayMs = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
