/** Deterministic artifact keys of a run, so every write is idempotent and reports can be rebuilt from storage alone. */
export const runKeys = {
  prefix: (runId: string) => `runs/${runId}/`,
  record: (runId: string) => `runs/${runId}/run.json`,
  /** A small per-run entry so listing runs does not walk every artifact. */
  index: (runId: string) => `index/runs/${runId}.json`,
  indexPrefix: 'index/runs/',
  completed: (runId: string) => `runs/${runId}/completed.json`,
  jobsPrefix: (runId: string) => `runs/${runId}/jobs/`,
  job: (runId: string, jobId: string, name: string) => `runs/${runId}/jobs/${encodeJobId(jobId)}/${name}`,
  /** One file per job's terminal result, in its own prefix so reports list only results. */
  result: (runId: string, jobId: string) => `runs/${runId}/results/${encodeJobId(jobId)}.json`,
  resultsPrefix: (runId: string) => `runs/${runId}/results/`,
  trace: (runId: string, jobId: string, attempt: number) =>
    `runs/${runId}/traces/${encodeJobId(jobId)}/attempt-${attempt}.json`,
  /** Reports sit at the top of the run, as users expect: results.jsonl, summary.json, ... */
  report: (runId: string, name: string) => `runs/${runId}/${name}`,
};

/** Job ids may hold '/' and ':' (task ids like HumanEval/0); keys keep one path segment per job. */
export function encodeJobId(jobId: string): string {
  return encodeURIComponent(jobId);
}

export function decodeJobId(segment: string): string {
  return decodeURIComponent(segment);
}
