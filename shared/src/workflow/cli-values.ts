import type { ObjectRefField } from '../messages/index.js';
import type { SubmitContext } from './types.js';

// A kind's `plan` receives commander's parsed options as plain values: these read them safely.

/** A non-empty string option, or undefined. */
export const optString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A number option (commander parsed it with the option's `int`/`number` type), or undefined. */
export const optNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** A comma-separated list option (`a,b, c`), or undefined when absent. */
export function optList(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string'
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
}

/** What a dry run's spec carries instead of a claim check (nothing is uploaded). */
export const dryRunRef: ObjectRefField = { key: 'dry-run', size: 0, sha256: '0'.repeat(64) };

/** Uploads `text` by content hash, or, in a dry run, only stands in for it. */
export function uploadUnlessDryRun(
  ctx: SubmitContext & { dryRun: boolean },
  prefix: string,
  text: string,
  ext: string,
): Promise<ObjectRefField> {
  return ctx.dryRun ? Promise.resolve(dryRunRef) : ctx.upload(prefix, text, ext);
}
