// Global test setup: the integration tests need a real RabbitMQ and Redis (URLs from the
// environment, local defaults), and the process-level tests spawn the built services.
import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';

function answers(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(u.port || defaultPort), u.hostname, () => done(true));
  });
}

export default async function setup(): Promise<void> {
  const rabbit = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const missing: string[] = [];
  if (!(await answers(rabbit, 5672))) missing.push(`RabbitMQ (${new URL(rabbit).host})`);
  if (!(await answers(redis, 6379))) missing.push(`Redis (${new URL(redis).host})`);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not answering: run scripts/test (it starts them) or docker compose up -d rabbitmq redis minio`,
    );
  }
  // Process-level tests run the services' built entry points; tsc -b is incremental.
  // EVALFLEET_TEST_NO_BUILD=1 skips it when iterating on a part whose neighbours do not build.
  if (process.env.EVALFLEET_TEST_NO_BUILD !== '1') {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b'], { stdio: 'inherit' });
  }
}
