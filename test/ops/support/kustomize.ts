// The subset of kustomize that k8s/ uses (resources, namespace, images, secretGenerator with literals and
// no name hash, JSON 6902 patches with a kind/name target), so the manifest tests need no kubectl. The test
// compares its output with `kubectl kustomize` wherever kubectl is installed, so the two cannot drift apart.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type PatchOp = { op: 'add' | 'replace' | 'remove'; path: string; value?: Json };
type Kustomization = {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
  secretGenerator?: { name: string; literals?: string[] }[];
  patches?: { target: { kind: string; name: string }; patch: string }[];
};

const supported = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'generatorOptions',
  'secretGenerator',
  'patches',
]);

export function kustomize(dir: string): K8sObject[] {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) {
    if (!supported.has(key))
      throw new Error(`${dir}: kustomization field ${key} is not supported by the test renderer`);
  }
  let objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (statSync(p).isDirectory()) objects.push(...kustomize(p));
    else objects.push(...parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJSON() as K8sObject));
  }
  objects = objects.filter((o) => o !== null);
  if (k.secretGenerator?.length && !k.generatorOptions?.disableNameSuffixHash) {
    throw new Error(`${dir}: the test renderer needs generatorOptions.disableNameSuffixHash: true`);
  }
  for (const g of k.secretGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const lit of g.literals ?? []) {
      const i = lit.indexOf('=');
      data[lit.slice(0, i)] = Buffer.from(lit.slice(i + 1)).toString('base64');
    }
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: g.name }, type: 'Opaque', data });
  }
  for (const p of k.patches ?? []) {
    const target = objects.find((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    if (!target) throw new Error(`${dir}: patch target ${p.target.kind}/${p.target.name} not found`);
    for (const op of parse(p.patch) as PatchOp[]) applyOp(target as unknown as Json, op);
  }
  for (const img of k.images ?? []) {
    for (const o of objects) forEachContainer(o, (c) => retag(c, img));
  }
  if (k.namespace) for (const o of objects) o.metadata.namespace = k.namespace;
  return objects;
}

function forEachContainer(o: K8sObject, fn: (c: { image?: string }) => void): void {
  const spec = (o as { spec?: { template?: { spec?: Record<string, unknown> } } }).spec?.template?.spec;
  if (!spec) return;
  for (const key of ['containers', 'initContainers']) {
    for (const c of (spec[key] as { image?: string }[] | undefined) ?? []) fn(c);
  }
}

function retag(c: { image?: string }, img: { name: string; newName?: string; newTag?: string }): void {
  if (!c.image) return;
  const [name, tag] = c.image.split(':') as [string, string | undefined];
  if (name !== img.name) return;
  const newTag = img.newTag ?? tag;
  c.image = `${img.newName ?? name}${newTag ? `:${newTag}` : ''}`;
}

function applyOp(doc: Json, op: PatchOp): void {
  const parts = op.path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop();
  if (last === undefined) throw new Error(`bad patch path ${op.path}`);
  let parent: Json = doc;
  for (const part of parts) {
    const next: Json | undefined = Array.isArray(parent)
      ? parent[Number(part)]
      : typeof parent === 'object' && parent !== null
        ? parent[part]
        : undefined;
    if (next === undefined) throw new Error(`patch path ${op.path}: ${part} does not exist`);
    parent = next;
  }
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (op.op === 'add') parent.splice(i, 0, op.value as Json);
    else if (op.op === 'replace') parent[i] = op.value as Json;
    else parent.splice(i, 1);
  } else if (typeof parent === 'object' && parent !== null) {
    if (op.op !== 'add' && !(last in parent)) throw new Error(`patch path ${op.path} does not exist`);
    if (op.op === 'remove') delete parent[last];
    else parent[last] = op.value as Json;
  } else {
    throw new Error(`patch path ${op.path} does not lead to an object`);
  }
}
