// What went wrong in a solve run, as patterns: failed samples clustered by signature (summary.json's
// `failureClusters`), and the judge's mistake categories per model (`judgements`).
import { clusterFailures, failureSignature } from '../../report/index.js';
import { naturalCompare, unscoredVerdicts } from '../../scoring/index.js';
import type { TypedResult } from '../../workflow/index.js';
import { UNJUDGED } from './judge.js';
import type { SolveResult } from './result.js';

type Stored = TypedResult<SolveResult>;

export type ClusterExample = { jobId: string; model: string; taskId: string; sampleIndex: number; message?: string };

export type SolveFailureCluster = {
  /** `<exception or verdict> | <message, literals masked> | <failing test>` */
  signature: string;
  exceptionType: string | null;
  message: string;
  test: string | null;
  count: number;
  byModel: Record<string, number>;
  examples: ClusterExample[];
};

export type SolveFailureClusters = {
  /** Scored samples that did not pass (dead-lettered, budget-stopped and infra errors are not the model's). */
  failedSamples: number;
  clusters: SolveFailureCluster[];
  /** Clusters (and their samples) beyond the ones listed. */
  omittedClusters: number;
  omittedSamples: number;
};

/** Scored samples that did not pass: what clusters and the judge look at. */
export function isFailedSample(r: SolveResult): boolean {
  return !r.passed && !unscoredVerdicts.has(r.verdict);
}

/** The failing test of a sample: the first that failed or errored. */
export function failingTest(r: SolveResult): string | undefined {
  return r.tests?.find((t) => t.outcome === 'failed' || t.outcome === 'error')?.name;
}

export function sampleSignature(r: SolveResult) {
  return failureSignature({ text: r.message ?? r.reason, test: failingTest(r), fallback: r.verdict });
}

/** Failed samples grouped by signature, largest first, at most `maxClusters` listed. */
export function solveFailureClusters(results: readonly Stored[], maxClusters = 50): SolveFailureClusters {
  const failed = results
    .filter((r) => isFailedSample(r.result))
    .sort((a, b) => naturalCompare(a.jobId, b.jobId))
    .map((r) => ({
      signature: sampleSignature(r.result),
      group: r.result.model,
      example: {
        jobId: r.jobId,
        model: r.result.model,
        taskId: r.result.taskId,
        sampleIndex: r.result.sampleIndex,
        ...(r.result.message ? { message: r.result.message.slice(-300) } : {}),
      },
    }));
  const all = clusterFailures(failed);
  const listed = all.slice(0, maxClusters);
  return {
    failedSamples: failed.length,
    clusters: listed.map((c) => ({
      signature: c.key,
      exceptionType: c.exceptionType,
      message: c.message,
      test: c.test,
      count: c.count,
      byModel: c.byGroup,
      examples: c.examples,
    })),
    omittedClusters: all.length - listed.length,
    omittedSamples: all.slice(maxClusters).reduce((n, c) => n + c.count, 0),
  };
}

export type JudgementSummary = {
  judgeModel: string;
  judged: number;
  unjudged: number;
  costUsd: number;
  /** model → category → samples */
  byModel: Record<string, Record<string, number>>;
};

/** The judge's labels per model; undefined for a run without a judge. */
export function judgementSummary(results: readonly Stored[], judgeModel: unknown): JudgementSummary | undefined {
  if (typeof judgeModel !== 'string') return undefined;
  const summary: JudgementSummary = { judgeModel, judged: 0, unjudged: 0, costUsd: 0, byModel: {} };
  for (const { result } of results) {
    const j = result.judgement;
    if (!j) continue;
    if (j.category === UNJUDGED) summary.unjudged += 1;
    else summary.judged += 1;
    summary.costUsd += j.costUsd;
    const model = (summary.byModel[result.model] ??= {});
    model[j.category] = (model[j.category] ?? 0) + 1;
  }
  return summary;
}
