// Prompt templates: `{{field}}`, `{{nested.field}}`, `{{list.0}}` from the record and
// `{{stages.<stage>.<field>}}` from earlier stages' answers. Nothing else is interpreted, so a
// template can never run code; a name that is not there is an error, never an empty string.

const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;
const segment = /^[^.\s{}]+$/;

/** The dotted paths a template names, in order of appearance (repeats kept once). */
export function templatePaths(template: string): string[] {
  const paths = new Set<string>();
  for (const m of template.matchAll(placeholder)) paths.add(m[1] ?? '');
  return [...paths];
}

/** Why a path cannot be a placeholder, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'an empty placeholder {{}}';
  const parts = path.split('.');
  if (!parts.every((p) => segment.test(p))) return `{{${path}}} is not a dotted field path`;
  return undefined;
}

export type Lookup = { found: true; value: unknown } | { found: false };

/** Walks `path` through objects (and arrays by index); only own properties count. */
export function lookup(context: unknown, path: string): Lookup {
  let node: unknown = context;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, part))
      return { found: false };
    node = (node as Record<string, unknown>)[part];
  }
  return node === undefined ? { found: false } : { found: true, value: node };
}

/** A value as it appears in a prompt: strings verbatim, anything else as JSON. */
export function renderValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export type Rendered = { ok: true; text: string } | { ok: false; missing: string };

/** The template with every placeholder filled from `context`, or the first path it lacks. */
export function renderTemplate(template: string, context: unknown): Rendered {
  for (const path of templatePaths(template)) {
    if (!lookup(context, path).found) return { ok: false, missing: path };
  }
  const text = template.replace(placeholder, (_all, path: string) => {
    const hit = lookup(context, path);
    return hit.found ? renderValue(hit.value) : '';
  });
  return { ok: true, text };
}

/** `stages.<name>.…` → the stage's name; undefined for a record field. */
export function stageOf(path: string): string | undefined {
  const parts = path.split('.');
  return parts[0] === 'stages' ? parts[1] : undefined;
}
