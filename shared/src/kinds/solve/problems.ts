import { problemSchema, type Problem } from '../../datasets/problem.js';
import type { ArtifactStore } from '../../storage/index.js';

/**
 * Problems arrive as claim checks shared by every job of a task; a worker reads each one
 * once and keeps it (bounded) for the task's other jobs.
 */
export class ProblemCache {
  private readonly problems = new Map<string, Problem>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string): Promise<Problem> {
    const cached = this.problems.get(key);
    if (cached) return cached;
    const problem = problemSchema.parse(JSON.parse((await this.store.get(key)).toString('utf8')));
    if (this.problems.size >= this.maxEntries) this.problems.clear();
    this.problems.set(key, problem);
    return problem;
  }
}
