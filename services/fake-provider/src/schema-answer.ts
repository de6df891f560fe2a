// Structured answers: a JSON value that satisfies whatever JSON Schema the request carries
// (`response_format: json_schema`), drawn reproducibly so the same prompt always gets the same
// answer. Covers the keywords structured-output schemas use (type, properties, required, items,
// enum, const, anyOf/oneOf/allOf, local $ref, string lengths and formats, numeric bounds,
// multipleOf, array sizes, uniqueItems); `pattern` is not honoured.

/** A number in [0, 1) for a place in the answer (the caller binds seed and prompt). */
export type Chooser = (place: string) => number;

type Schema = Record<string, unknown>;

const words = ['alpha', 'bravo', 'cache', 'delta', 'queue', 'timeout', 'memory', 'thread', 'parser', 'config'];
const maxDepth = 12;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
const pick = <T>(items: readonly T[], r: number): T | undefined => items[Math.floor(r * items.length)];

/** `#/$defs/x` and `#/definitions/x` (JSON pointer into the root schema); undefined when unresolved. */
function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[part] : undefined;
  }
  return isSchema(node) ? node : undefined;
}

/** The schema's first non-null type, or the one its keywords imply. */
function typeOf(schema: Schema): string {
  const t = schema['type'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const types = t.filter((x): x is string => typeof x === 'string');
    return types.find((x) => x !== 'null') ?? types[0] ?? 'string';
  }
  if (isSchema(schema['properties']) || Array.isArray(schema['required'])) return 'object';
  if (schema['items'] !== undefined || schema['prefixItems'] !== undefined) return 'array';
  if (num(schema['minimum']) !== undefined || num(schema['maximum']) !== undefined) return 'number';
  return 'string';
}

function stringValue(schema: Schema, choose: Chooser, place: string): string {
  const r = choose(place);
  switch (schema['format']) {
    case 'date-time':
      return new Date(Date.UTC(2024, 0, 1) + Math.floor(r * 365 * 86_400_000)).toISOString();
    case 'date':
      return new Date(Date.UTC(2024, 0, 1) + Math.floor(r * 365) * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return `${pick(words, r) ?? 'user'}@example.com`;
    case 'uri':
    case 'url':
      return `https://example.com/${pick(words, r) ?? 'x'}`;
    case 'uuid': {
      const hex = Math.floor(r * 2 ** 48)
        .toString(16)
        .padStart(12, '0');
      return `00000000-0000-4000-8000-${hex}`;
    }
    default:
      break;
  }
  const min = Math.max(0, num(schema['minLength']) ?? 0);
  const max = Math.max(min, num(schema['maxLength']) ?? Math.max(min, 60));
  let text = `${pick(words, r) ?? 'text'} ${pick(words, choose(`${place}#2`)) ?? 'text'}`;
  while (text.length < min) text += ` ${pick(words, choose(`${place}#${text.length}`)) ?? 'x'}`;
  return text.slice(0, max);
}

function numberValue(schema: Schema, integer: boolean, choose: Chooser, place: string): number {
  const exMin = num(schema['exclusiveMinimum']);
  const exMax = num(schema['exclusiveMaximum']);
  let lo = num(schema['minimum']) ?? (exMin !== undefined ? exMin : undefined);
  let hi = num(schema['maximum']) ?? (exMax !== undefined ? exMax : undefined);
  // Without bounds: integers as counts, numbers as scores, the usual shapes of such fields.
  if (lo === undefined && hi === undefined) [lo, hi] = integer ? [0, 100] : [0, 1];
  else if (lo === undefined) lo = (hi ?? 0) - (integer ? 100 : 1);
  else if (hi === undefined) hi = lo + (integer ? 100 : 1);
  const step = num(schema['multipleOf']) ?? (integer ? 1 : undefined);
  const r = choose(place);
  if (step !== undefined && step > 0) {
    // A multiple of the step strictly inside the exclusive bounds and within the inclusive ones.
    let first = Math.ceil((lo ?? 0) / step);
    let last = Math.floor((hi ?? 0) / step);
    if (exMin !== undefined && first * step <= exMin) first += 1;
    if (exMax !== undefined && last * step >= exMax) last -= 1;
    if (last < first) return first * step;
    const value = (first + Math.floor(r * (last - first + 1))) * step;
    return integer ? Math.round(value) : Number(value.toFixed(10));
  }
  const span = (hi ?? 0) - (lo ?? 0);
  // Two decimals read like a model's score; nudged off exclusive bounds.
  let value = Math.round(((lo ?? 0) + r * span) * 100) / 100;
  if (exMin !== undefined && value <= exMin) value = exMin + span / 1000;
  if (exMax !== undefined && value >= exMax) value = exMax - span / 1000;
  return value;
}

function arrayValue(root: Schema, schema: Schema, choose: Chooser, place: string, depth: number): unknown[] {
  const prefix = list(schema['prefixItems']);
  const min = Math.max(num(schema['minItems']) ?? 0, prefix.length);
  const max = Math.max(min, num(schema['maxItems']) ?? Math.max(min, 3));
  const count = min + Math.floor(choose(`${place}#n`) * (Math.min(max, min + 3) - min + 1));
  const items = isSchema(schema['items']) ? schema['items'] : {};
  const out: unknown[] = [];
  const seen = new Set<string>();
  // A few spare draws let uniqueItems skip repeats; a small enum may still run out.
  for (let i = 0; out.length < count && i < count * 4 + 8; i++) {
    const prefixed = prefix[i];
    const itemSchema = i < prefix.length && isSchema(prefixed) ? prefixed : items;
    const value = valueFor(root, itemSchema, choose, `${place}/${i}`, depth + 1);
    const key = JSON.stringify(value);
    if (schema['uniqueItems'] === true && seen.has(key)) continue;
    seen.add(key);
    out.push(value);
  }
  return out;
}

function objectValue(root: Schema, schema: Schema, choose: Chooser, place: string, depth: number) {
  const properties = isSchema(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required'])
    ? schema['required'].filter((x): x is string => typeof x === 'string')
    : [];
  const out: Record<string, unknown> = {};
  // Every declared property is answered (models tend to fill them all); deep down only the required.
  const names = depth < maxDepth ? [...new Set([...Object.keys(properties), ...required])] : required;
  for (const name of names) {
    const propertySchema = properties[name];
    out[name] = valueFor(root, isSchema(propertySchema) ? propertySchema : {}, choose, `${place}/${name}`, depth + 1);
  }
  return out;
}

/** Merges allOf branches into one schema (properties and required united, other keywords last wins). */
function mergeAll(root: Schema, schema: Schema): Schema {
  const parts = list(schema['allOf'])
    .filter(isSchema)
    .map((s) => resolved(root, s));
  const merged: Schema = { ...schema };
  delete merged['allOf'];
  for (const part of parts) {
    const properties = { ...(isSchema(merged['properties']) ? merged['properties'] : {}) };
    Object.assign(properties, isSchema(part['properties']) ? part['properties'] : {});
    const required = [...list(merged['required']), ...list(part['required'])];
    Object.assign(merged, part, { properties, required: [...new Set(required)] });
  }
  return merged;
}

function resolved(root: Schema, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; typeof current['$ref'] === 'string' && hops < 16; hops++) {
    const target = resolveRef(root, current['$ref']);
    if (!target) break;
    const rest: Schema = { ...current };
    delete rest['$ref'];
    current = { ...target, ...rest };
  }
  return current;
}

function valueFor(root: Schema, input: Schema, choose: Chooser, place: string, depth: number): unknown {
  let schema = resolved(root, input);
  if (Array.isArray(schema['allOf'])) schema = mergeAll(root, schema);
  if ('const' in schema) return schema['const'];
  const choices = list(schema['enum']);
  if (choices.length > 0) return pick(choices, choose(place));
  const branches: unknown = Array.isArray(schema['anyOf']) ? schema['anyOf'] : schema['oneOf'];
  if (Array.isArray(branches)) {
    // The first branch that is not `null`: a oneOf of disjoint shapes stays valid, and optional
    // fields (`anyOf: [X, {type: null}]`) get a value.
    const options = branches.filter(isSchema);
    const chosen = options.find((b) => b['type'] !== 'null') ?? options[0];
    if (chosen)
      return valueFor(root, { ...schema, anyOf: undefined, oneOf: undefined, ...chosen }, choose, place, depth);
  }
  switch (typeOf(schema)) {
    case 'object':
      return objectValue(root, schema, choose, place, depth);
    case 'array':
      return arrayValue(root, schema, choose, place, depth);
    case 'integer':
      return numberValue(schema, true, choose, place);
    case 'number':
      return numberValue(schema, false, choose, place);
    case 'boolean':
      return choose(place) < 0.5;
    case 'null':
      return null;
    default:
      return stringValue(schema, choose, place);
  }
}

/** A value that satisfies `schema`; `choose` makes every decision, so equal choosers give equal answers. */
export function schemaAnswer(schema: unknown, choose: Chooser): unknown {
  const root = isSchema(schema) ? schema : {};
  return valueFor(root, root, choose, '', 0);
}
