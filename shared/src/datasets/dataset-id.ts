import { createHash } from 'node:crypto';

/**
 * Content id of a problem set: the first 16 hex digits of the sha256 of its
 * exact bytes. The same file always uploads to the same key; any edit changes it.
 */
export function datasetId(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}
