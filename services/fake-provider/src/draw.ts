import { createHash } from 'node:crypto';

/** A reproducible number in [0, 1) from its inputs: the fake provider's only source of chance. */
export function draw(...parts: readonly (string | number | undefined)[]): number {
  const digest = createHash('sha256')
    .update(parts.map((p) => (p === undefined ? '' : String(p))).join('\u0000'))
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
