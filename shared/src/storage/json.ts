import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type * as z from 'zod';
import { ErrorCodes, PermanentError } from '../errors/index.js';
import type { ArtifactStore, ObjectRef } from './artifact-store.js';
import { sha256Hex } from './digest.js';

const jsonType = 'application/json';
const jsonlType = 'application/x-ndjson';

function encodeRow(row: unknown): string {
  const text = JSON.stringify(row);
  // JSON.stringify returns undefined for undefined, functions and symbols: not a row.
  if (typeof text !== 'string') throw new TypeError(`cannot encode ${typeof row} as JSON`);
  return text;
}

function parseJson(text: string, key: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const where = line === undefined ? key : `${key}:${line}`;
    throw new PermanentError(ErrorCodes.invalidJson, `${where} is not valid JSON`, {
      cause: err,
      details: { key, line },
    });
  }
}

function validate<S extends z.ZodType>(schema: S, value: unknown, key: string, line?: number): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const where = line === undefined ? key : `${key}:${line}`;
  throw new PermanentError(ErrorCodes.schemaViolation, `${where} does not match its schema`, {
    cause: result.error,
    details: { key, line, issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}

export async function putJson(
  store: ArtifactStore,
  key: string,
  value: unknown,
  opts?: { pretty?: boolean },
): Promise<ObjectRef> {
  const text = opts?.pretty === true ? JSON.stringify(value, null, 2) : encodeRow(value);
  return store.put(key, `${text}\n`, { contentType: jsonType });
}

/** Reads and parses a JSON object; with a schema the result is validated (`schema_violation`). */
export async function getJson<S extends z.ZodType>(store: ArtifactStore, key: string, schema: S): Promise<z.output<S>>;
export async function getJson(store: ArtifactStore, key: string): Promise<unknown>;
export async function getJson(store: ArtifactStore, key: string, schema?: z.ZodType): Promise<unknown> {
  const value = parseJson((await store.get(key)).toString('utf8'), key);
  return schema === undefined ? value : validate(schema, value, key);
}

/** `getJson` for a key that may be gone: undefined when it is. */
export async function getOptionalJson<S extends z.ZodType>(
  store: ArtifactStore,
  key: string,
  schema: S,
): Promise<z.output<S> | undefined> {
  const body = await store.getOptional(key);
  return body === undefined ? undefined : validate(schema, parseJson(body.toString('utf8'), key), key);
}

/** Writes one JSON document per line; an async iterable is streamed rather than collected. */
export async function putJsonl(
  store: ArtifactStore,
  key: string,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<ObjectRef> {
  if (Array.isArray(rows)) {
    const text = rows.map((row) => `${encodeRow(row)}\n`).join('');
    return store.put(key, text, { contentType: jsonlType });
  }
  async function* lines(): AsyncGenerator<string> {
    for await (const row of rows) yield `${encodeRow(row)}\n`;
  }
  return store.putStream(key, Readable.from(lines(), { objectMode: false }), { contentType: jsonlType });
}

/** Parses a JSONL object row by row while it downloads; blank lines are skipped. */
export function readJsonl<S extends z.ZodType>(
  store: ArtifactStore,
  key: string,
  schema: S,
): AsyncIterable<z.output<S>>;
export function readJsonl(store: ArtifactStore, key: string): AsyncIterable<unknown>;
export async function* readJsonl(store: ArtifactStore, key: string, schema?: z.ZodType): AsyncIterable<unknown> {
  const stream = await store.getStream(key);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNo = 0;
  const parseLine = (line: string): unknown => {
    const value = parseJson(line, key, lineNo);
    return schema === undefined ? value : validate(schema, value, key, lineNo);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        lineNo += 1;
        if (line.trim() !== '') yield parseLine(line.replace(/\r$/, ''));
      }
    }
    pending += decoder.end();
    lineNo += 1;
    if (pending.trim() !== '') yield parseLine(pending.replace(/\r$/, ''));
  } finally {
    // A consumer that stops early must not leave the download open.
    stream.destroy();
  }
}

/** A deterministic content-addressed key: `prefix/<sha256>.ext`, so equal bodies share one object. */
export function contentKey(prefix: string, body: Buffer | string, ext = ''): string {
  const suffix = ext === '' || ext.startsWith('.') ? ext : `.${ext}`;
  const base = prefix.replace(/\/+$/, '');
  const name = `${sha256Hex(body)}${suffix}`;
  return base === '' ? name : `${base}/${name}`;
}
