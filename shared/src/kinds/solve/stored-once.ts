import { createHash } from 'node:crypto';
import type { ArtifactStore } from '../../storage/index.js';

/**
 * Where a value derived from a task in one sandbox is kept: beside the task's stored problem
 * (`datasets/<dataset>/problems/<task>.json` → `datasets/<dataset>/<folder>/<sandbox hash>/<task>.json`),
 * so per dataset and image.
 */
export function perSandboxKey(problemKey: string, folder: string, fingerprint: string): string {
  const hash = fingerprintHash(fingerprint);
  const slash = problemKey.lastIndexOf('/problems/');
  const base = slash >= 0 ? problemKey.slice(0, slash) : 'datasets/unknown';
  return `${base}/${folder}/${hash}/${problemKey.slice(problemKey.lastIndexOf('/') + 1)}`;
}

// A process sees one or two fingerprints (its sandboxes) and every job asks for a key: hashed once each.
const fingerprintHashes = new Map<string, string>();

function fingerprintHash(fingerprint: string): string {
  let hash = fingerprintHashes.get(fingerprint);
  if (hash === undefined) {
    if (fingerprintHashes.size >= 64) fingerprintHashes.clear();
    hash = createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
    fingerprintHashes.set(fingerprint, hash);
  }
  return hash;
}

/**
 * JSON values computed once per key for the whole fleet: the first caller computes (callers arriving
 * meanwhile wait for the same promise), the store keeps it (first writer wins, so every process uses the
 * same value) and memory keeps the latest `maxEntries`. A failure is not kept: the next caller tries again.
 */
export class StoredOnce<T> {
  private readonly known = new Map<string, Promise<T>>();
  private readonly store: ArtifactStore;
  private readonly maxEntries: number;

  constructor(store: ArtifactStore, maxEntries = Number.POSITIVE_INFINITY) {
    this.store = store;
    this.maxEntries = maxEntries;
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    let known = this.known.get(key);
    if (!known) {
      if (this.known.size >= this.maxEntries) this.known.delete(this.known.keys().next().value!);
      known = this.load(key, compute);
      this.known.set(key, known);
      known.catch(() => this.known.delete(key));
    }
    return known;
  }

  private async load(key: string, compute: () => Promise<T>): Promise<T> {
    const stored = await this.store.getOptional(key);
    if (stored) return JSON.parse(stored.toString('utf8')) as T;
    const value = await compute();
    const { created } = await this.store.putIfAbsent(key, JSON.stringify(value), { contentType: 'application/json' });
    if (created) return value;
    return JSON.parse((await this.store.get(key)).toString('utf8')) as T;
  }
}
