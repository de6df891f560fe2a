import { PermanentError } from '../../errors/index.js';
import { describeIssues } from '../../messages/index.js';
import { sha256Hex } from '../../storage/index.js';
import type { ArtifactStore, ObjectRef } from '../../storage/index.js';
import { projectProblem } from '../../workflow/index.js';
import { projectSchema, type Project } from './messages.js';

/** Why a project cannot be mutation-tested as given, or undefined. */
export function projectError(p: Project): string | undefined {
  const files = projectProblem({ files: p.files });
  if (files) return files;
  for (const [what, paths] of [
    ['source', p.source],
    ['tests', p.tests],
  ] as const) {
    for (const path of paths) {
      if (!Object.hasOwn(p.files, path)) return `${what} names ${JSON.stringify(path)}, which is not in files`;
      if (!path.endsWith('.py')) return `${what} must be .py files: ${JSON.stringify(path)}`;
    }
  }
  const tests = new Set(p.tests);
  const both = p.source.find((s) => tests.has(s));
  if (both) return `${JSON.stringify(both)} is both source and tests`;
  return undefined;
}

/** The projects of a bundle (one JSON object per line), checked; errors name the line. */
export function parseProjects(text: string): Project[] {
  const out: Project[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `projects line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new PermanentError('invalid_projects', `${where}: not JSON (${String(err)})`);
    }
    const parsed = projectSchema.safeParse(value);
    if (!parsed.success) throw new PermanentError('invalid_projects', `${where}: ${describeIssues(parsed.error)}`);
    const problem = projectError(parsed.data);
    if (problem) throw new PermanentError('invalid_projects', `${where} (${parsed.data.id}): ${problem}`);
    if (seen.has(parsed.data.id))
      throw new PermanentError('invalid_projects', `${where}: project id ${parsed.data.id} is used twice`);
    seen.add(parsed.data.id);
    out.push(parsed.data);
  });
  if (out.length === 0) throw new PermanentError('invalid_projects', 'the bundle holds no project');
  return out;
}

/** A project stored once by content (claim check for every message of its jobs). */
export async function storeProject(store: ArtifactStore, p: Project): Promise<ObjectRef> {
  const body = JSON.stringify(p);
  const { ref } = await store.putIfAbsent(`datasets/mutation/${sha256Hex(body)}.json`, body, {
    contentType: 'application/json',
  });
  return ref;
}

/** Loads projects, keeping the last few per worker (a project's batches arrive at the same evaluators). */
export class ProjectCache {
  private readonly cache = new Map<string, Project>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly max = 16,
  ) {}

  async get(ref: ObjectRef): Promise<Project> {
    const hit = this.cache.get(ref.key);
    if (hit) return hit;
    const project = projectSchema.parse(JSON.parse((await this.store.get(ref.key)).toString('utf8')));
    if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(ref.key, project);
    return project;
  }
}
