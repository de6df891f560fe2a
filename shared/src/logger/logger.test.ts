import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactString } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('redacts secrets in fields, URLs, bearer tokens and errors', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'test', runId: 'r1' }, { destination });
    log.info(
      { apiKey: 'sk-live-abcdefghijklmnop', config: { rabbit: { password: 'hunter2' } } },
      'connecting to amqp://user:hunter2@host:5672',
    );
    log.warn({ err: new Error('auth failed for Bearer abcdefghijklmnopqrstuv') }, 'call failed');
    log.error({ err: 'a thrown string with sk-abcdefghijklmnopqrst' }, 'odd throw');
    const text = lines.join('');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).toContain('[REDACTED]');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ service: 'test', runId: 'r1', level: 'info' });
    expect(lines).toHaveLength(3);
  });

  it('scrubs credentials inside strings', () => {
    expect(redactString('redis://:pw@127.0.0.1:6379')).toBe('redis://:[REDACTED]@127.0.0.1:6379');
    expect(redactString('no secrets here')).toBe('no secrets here');
  });
});
