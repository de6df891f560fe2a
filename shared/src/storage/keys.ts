import { PermanentError } from '../errors/index.js';
import { StorageErrorCodes } from './storage-errors.js';

/** S3's own limit; the filesystem store keeps it so that keys stay portable between stores. */
const maxKeyBytes = 1024;

function invalid(key: string, why: string): PermanentError {
  return new PermanentError(StorageErrorCodes.invalidKey, `invalid storage key ${JSON.stringify(key)}: ${why}`, {
    details: { key },
  });
}

function checkSegments(key: string, segments: readonly string[]): void {
  for (const segment of segments) {
    if (segment === '') throw invalid(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw invalid(key, `'${segment}' segment`);
  }
}

function checkCommon(key: string): void {
  if (key.startsWith('/')) throw invalid(key, 'absolute keys are not allowed');
  if (key.includes('\0')) throw invalid(key, 'NUL character');
  if (key.includes('\\')) throw invalid(key, 'backslash (keys use "/" only)');
  if (Buffer.byteLength(key, 'utf8') > maxKeyBytes) throw invalid(key, `longer than ${maxKeyBytes} bytes`);
}

/**
 * Keys are relative '/'-separated paths with no empty, '.' or '..' segments, so the same key
 * is safe as an S3 key and as a path below the filesystem store's root.
 */
export function assertValidKey(key: string): void {
  if (key === '') throw invalid(key, 'empty key');
  checkCommon(key);
  checkSegments(key, key.split('/'));
}

/** A list prefix is a key prefix: '' (everything), `runs/`, or a partial last segment `runs/ab`. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  checkCommon(prefix);
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  checkSegments(prefix, segments);
  if (last === '.' || last === '..') throw invalid(prefix, `'${last}' segment`);
}
