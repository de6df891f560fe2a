import type { Envelope, Kind, RunRequested } from '@evalfleet/shared/messages';

/** One job the producer publishes: its id and the envelope of its first stage. */
export type PlannedJob = { jobId: string; envelope: () => Envelope };

/** A kind's expansion of a run request: the jobs, plus what reports should know about the run. */
export type Expansion = {
  jobs: PlannedJob[];
  meta: Record<string, unknown>;
};

export type Expander<R extends RunRequested = RunRequested> = (runId: string, request: R) => Promise<Expansion>;

export type ExpanderTable = Partial<Record<Kind, Expander>>;
