import { existsSync } from 'node:fs';

import { createLogger } from '@evalfleet/shared/logger';
import { describe, expect, it } from 'vitest';

import { openSandbox } from '../open-sandbox.js';

// The evaluator fails closed: without a usable Docker sandbox it refuses to start, and it runs code
// unisolated only when SANDBOX=process is asked for by name.
describe('openSandbox', () => {
  const logger = createLogger({ service: 'evaluator-test' }, { level: 'silent' });

  it('refuses to start without a Docker engine instead of falling back to the process sandbox', async () => {
    const opening = openSandbox({
      mode: 'docker',
      image: 'evalfleet-sandbox:any',
      socketPath: '/nonexistent/docker.sock',
      concurrency: 1,
      logger,
    });
    await expect(opening).rejects.toThrow(/only in the Docker sandbox.*no Docker engine.*SANDBOX=process/s);
  });

  it('refuses to start without an image', async () => {
    const opening = openSandbox({
      mode: 'docker',
      image: undefined,
      socketPath: '/nonexistent/docker.sock',
      concurrency: 1,
      logger,
    });
    await expect(opening).rejects.toThrow(/SANDBOX=process/);
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('opens the process sandbox only when asked for by name', async () => {
    const sandbox = await openSandbox({
      mode: 'process',
      image: undefined,
      socketPath: '/nonexistent/docker.sock',
      concurrency: 1,
      logger,
      python: '/usr/bin/python3',
    });
    try {
      expect(sandbox.describe()).toMatch(/^process sandbox \(NOT isolated\)/);
    } finally {
      await sandbox.close();
    }
  });
});
