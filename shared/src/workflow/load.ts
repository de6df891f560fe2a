import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RegisteredKind } from './define.js';

function isRegisteredKind(v: unknown): v is RegisteredKind {
  if (typeof v !== 'object' || v === null) return false;
  const k = v as Partial<Record<keyof RegisteredKind, unknown>>;
  return (
    typeof k.name === 'string' &&
    Array.isArray(k.messages) &&
    typeof k.pipeline === 'object' &&
    typeof k.expand === 'function' &&
    typeof k.report === 'function' &&
    typeof k.parseResult === 'function'
  );
}

/**
 * Kinds that live outside the project, by module specifier (`EVALFLEET_KINDS`, comma-separated):
 * a path (relative to `cwd`) or a package name whose default export (or `kinds` export) is one kind
 * made with `defineKind`, or an array of them.
 */
export async function loadKindModules(specifiers: string | undefined, cwd = process.cwd()): Promise<RegisteredKind[]> {
  const out: RegisteredKind[] = [];
  for (const spec of (specifiers ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const url = spec.startsWith('.') || path.isAbsolute(spec) ? pathToFileURL(path.resolve(cwd, spec)).href : spec;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot load kind module ${spec}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const exported = mod['default'] ?? mod['kinds'] ?? mod['kind'];
    const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
    for (const k of list) {
      if (!isRegisteredKind(k)) throw new Error(`kind module ${spec} does not export a kind made with defineKind`);
      out.push(k);
    }
  }
  return out;
}
