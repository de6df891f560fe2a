import type { Readable, Writable } from 'node:stream';

const HEADER_BYTES = 8;

/**
 * Split Docker's multiplexed attach stream (non-TTY): frames of an 8-byte header (stream type 1 = stdout,
 * 2 = stderr; payload length as uint32 big-endian at offset 4) followed by the payload.
 */
export function demultiplex(source: Readable, stdout: Writable, stderr: Writable): void {
  let pending: Buffer = Buffer.alloc(0);
  source.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= HEADER_BYTES) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER_BYTES + size) break;
      const payload = pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      (pending[0] === 2 ? stderr : stdout).write(payload);
      pending = pending.subarray(HEADER_BYTES + size);
    }
  });
  const end = (): void => {
    stdout.end();
    stderr.end();
  };
  source.once('end', end);
  source.once('close', end);
}
