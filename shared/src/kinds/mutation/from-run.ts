// `--from-run RUN`: the passing solutions of a solve run, each a project — the solution as `solution.py`
// (built the way the solve kind ran it) and its problem's tests as a pytest file — so the mutation score says
// how well the problem's tests pin each solution down.
import { PermanentError } from '../../errors/index.js';
import { buildSolution, problemSchema, type Problem } from '../../datasets/index.js';
import { encodeJobId, loadResults, loadRunRecord } from '../../runs/index.js';
import { getJson, type ArtifactStore } from '../../storage/index.js';
import type { Project } from './messages.js';

/** HumanEval's `check(candidate)` called on the solution's entry point, as a pytest test. */
function checkFile(problem: Problem): string {
  return `from solution import *  # noqa: F401,F403\n\n${problem.tests}\n\n\ndef test_check():\n    check(${problem.entryPoint})\n`;
}

/**
 * HumanEval's check(candidate), MBPP's asserts and native suites as one pytest file over `solution`;
 * undefined for a format whose tests are not code (EvalPlus inputs without a `check`).
 */
export function pytestFileFor(problem: Problem): string | undefined {
  switch (problem.testFormat) {
    case 'pytest':
    case 'unittest':
      return problem.tests;
    case 'evalplus':
      return /^def check\(/m.test(problem.tests) ? checkFile(problem) : undefined;
    case 'humaneval':
      return checkFile(problem);
    case 'mbpp': {
      const asserts = problem.tests
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      const tests = asserts.map((a, i) => `def test_assert_${i}():\n    ${a}\n`);
      return `from solution import *  # noqa: F401,F403\n\n\n${tests.join('\n\n')}`;
    }
  }
}

/** Whether a sample is the whole program or the continuation of the problem's starter code. */
function modeOf(problem: Problem, code: string): 'full' | 'completion' {
  return new RegExp(`^\\s*def\\s+${problem.entryPoint}\\s*\\(`, 'm').test(code) ? 'full' : 'completion';
}

/** Project ids from solve job ids: `model/HumanEval/3/0` → `model.HumanEval.3.0`. */
function projectId(model: string, taskId: string, sample: number): string {
  return `${model}.${taskId}.${sample}`.replace(/[^A-Za-z0-9._:@+-]/g, '.').slice(0, 120);
}

export async function projectsFromSolveRun(store: ArtifactStore, runId: string): Promise<Project[]> {
  const record = await loadRunRecord(runId, store).catch(() => undefined);
  if (!record) throw new PermanentError('run_missing', `no run ${runId} in the store`);
  if (record.kind !== 'solve') throw new PermanentError('run_kind', `run ${runId} is a ${record.kind} run, not solve`);
  const datasetId = record.meta['datasetId'];
  if (typeof datasetId !== 'string') throw new PermanentError('run_meta', `run ${runId} names no dataset`);
  const problems = new Map<string, Problem>();
  const projects: Project[] = [];
  const results = (await loadResults(runId, store)).sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
  for (const r of results) {
    const { taskId, model, sampleIndex, code, passed } = r.result;
    if (passed !== true || typeof code !== 'string' || typeof taskId !== 'string') continue;
    let problem = problems.get(taskId);
    if (!problem) {
      problem = await getJson(store, `datasets/${datasetId}/problems/${encodeJobId(taskId)}.json`, problemSchema);
      problems.set(taskId, problem);
    }
    const tests = pytestFileFor(problem);
    if (tests === undefined) continue;
    let id = projectId(String(model), taskId, Number(sampleIndex));
    while (projects.some((p) => p.id === id)) id = `${id}+`;
    projects.push({
      id,
      files: {
        'solution.py': buildSolution(problem, code, modeOf(problem, code)),
        'test_solution.py': tests,
      },
      source: ['solution.py'],
      tests: ['test_solution.py'],
    });
  }
  if (projects.length === 0) throw new PermanentError('no_projects', `run ${runId} has no passing solution`);
  return projects;
}
