import type { Readable, Writable } from 'node:stream';

const HEADER_BYTES = 8;
const NO_BYTES = Buffer.alloc(0);

/**
 * Split Docker's multiplexed attach stream (non-TTY): frames of an 8-byte header (stream type 1 = stdout,
 * 2 = stderr; payload length as uint32 big-endian at offset 4) followed by the payload. Payload bytes are
 * passed on as they arrive (a frame is never gathered whole), so a large reply costs linear time.
 */
export function demultiplex(source: Readable, stdout: Writable, stderr: Writable): void {
  let header: Buffer = NO_BYTES;
  let remaining = 0;
  let target: Writable = stdout;
  source.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining > 0) {
        const end = Math.min(chunk.length, offset + remaining);
        target.write(chunk.subarray(offset, end));
        remaining -= end - offset;
        offset = end;
        continue;
      }
      const part = chunk.subarray(offset, offset + HEADER_BYTES - header.length);
      header = header.length === 0 ? part : Buffer.concat([header, part]);
      offset += part.length;
      if (header.length < HEADER_BYTES) break;
      target = header[0] === 2 ? stderr : stdout;
      remaining = header.readUInt32BE(4);
      header = NO_BYTES;
    }
  });
  const end = (): void => {
    stdout.end();
    stderr.end();
  };
  source.once('end', end);
  source.once('close', end);
}
