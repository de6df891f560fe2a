import type { z } from 'zod';
import type { Logger } from '../logger/index.js';
import type { ReportPart } from '../report/model.js';
import type { CatalogEntry, Envelope, ObjectRefField, RetryPolicy } from '../messages/index.js';
import type { RunRecord, StoredResult } from '../runs/index.js';
import type { ArtifactStore } from '../storage/index.js';
import type { Capabilities, CapabilityName } from './capabilities.js';

/** The target that ends a job: its terminal result goes to the aggregator. */
export const RESULT = 'result';

/** The step before a job's first message: the producer's expansion. */
export const PRODUCE = 'produce';

/** A kind's message type; the retry policy defaults to the fleet's. */
export type MessageDef<S extends z.ZodType = z.ZodType> = Omit<CatalogEntry<S>, 'retry'> & { retry?: RetryPolicy };

/**
 * A loop edge: go to `to` while the payload says so (the cap travels in the payload, e.g.
 * `turn < maxTurns`), otherwise to `otherwise`.
 */
export type Loop = { to: string; while: (payload: unknown) => boolean; otherwise: Target };

/** A message type, `result`, or a loop. */
export type Target = string | Loop;

/** From (`produce` or a message type) → outcome → where the job goes next. */
export type Pipeline = Readonly<Record<string, Readonly<Record<string, Target>>>>;

/** A stage a kind adds (a queue), and the capability its handlers need. */
export type StageDef = { name: string; needs: CapabilityName; description: string };

export type EmitOptions = {
  /** A different job id for the next message (fan-out); defaults to the current job. */
  jobId?: string;
  /** Artifacts to attach to a terminal result. */
  artifacts?: Record<string, ObjectRefField>;
  /**
   * Where this outcome counts in the run's progress (`status`): `<stage>/<progress>` instead of the
   * stage alone, e.g. a prompt pipeline's own stage names. Never a metric label (it may come from
   * a user's file).
   */
  progress?: string;
};

/** What a handler gets besides its payload. */
export interface JobContext {
  readonly env: Envelope;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly store: ArtifactStore;
  readonly caps: Capabilities;
  /**
   * Finish this step with `outcome`: the pipeline decides where `payload` goes next (a message type,
   * validated against the catalog, or the job's result, validated against the kind's result schema).
   */
  emit(outcome: string, payload: unknown, opts?: EmitOptions): Promise<void>;
  /**
   * Fan-out whose size the expansion could not know (mutants found by mutating): this job adds `count`
   * jobs to the run's total, once however often it is delivered, before it emits them (each with its own
   * `jobId`, each ending in a result). Present in every worker; absent in hand-made test contexts.
   */
  addJobs?(count: number): Promise<void>;
}

export type Handler = { type: string; run(payload: unknown, ctx: JobContext): Promise<void> };

/** What a kind's handlers may hold on to for the life of a worker process. */
export type WorkerHost = { store: ArtifactStore; logger: Logger; caps: Capabilities };

/** One job of a run, as the producer publishes it: its id and the outcome of `produce` it starts with. */
export type PlannedJob = { jobId: string; outcome: string; payload: unknown };

export type Expansion = {
  jobs: PlannedJob[];
  /** Whatever reports should know about the run (dataset, models, categories, ...). */
  meta: Record<string, unknown>;
};

/**
 * A set of strings that outlives runs, shared by the whole fleet (Redis), e.g. the catalog entries a
 * kind has used. A cache beside the store: the store stays the source of truth.
 */
export interface SharedSet {
  members(): Promise<Set<string>>;
  /** Resolves to how many of `members` were not in the set yet. */
  add(members: readonly string[]): Promise<number>;
}

export type ExpandContext<Spec> = {
  runId: string;
  spec: Spec;
  store: ArtifactStore;
  logger: Logger;
  /** Model names the registry knows. */
  knownModels(): ReadonlySet<string>;
  /** One of this kind's shared sets by name (the platform keeps kinds' sets apart); absent without Redis. */
  sharedSet?(name: string): SharedSet;
};

/** A stored result with its kind's result type. */
export type TypedResult<R> = Omit<StoredResult, 'result'> & { result: R };

export type ReportContext<R> = { record: RunRecord; results: TypedResult<R>[]; store: ArtifactStore };

/** What a kind's `html` hook gets: the report context and the report files written so far (name → key). */
export type HtmlReportContext<R> = ReportContext<R> & { reports: Record<string, string> };

/** Why a job was dead-lettered, for the kind to turn into a terminal result. */
export type DeadLetterInfo = {
  jobId: string;
  /** The message type that was dead-lettered and its payload (unvalidated: it may be why). */
  type: string;
  stage: string;
  payload: unknown;
  code: string;
  message: string;
};

/** One `submit <kind>` option, as plain data (the CLI turns it into a commander option). */
export type CliOption = {
  flags: string;
  description: string;
  type?: 'string' | 'int' | 'number' | 'boolean' | 'list';
  default?: string | number | boolean;
  required?: boolean;
  choices?: readonly string[];
};

/** What a kind's CLI plan may use: local files, the store, the model registry. */
export interface SubmitContext {
  err(line: string): void;
  readText(file: string): string;
  /** Uploads by content hash under `prefix`; returns the claim check. */
  upload(prefix: string, text: string, ext: string): Promise<ObjectRefField>;
  /** Throws with a clear message when a model is unknown or its API key is not set. */
  checkModels(models: readonly string[]): void;
}

/** What a kind's own command may use besides the submit context: output, the store, Redis-free reads. */
export interface CommandContext extends SubmitContext {
  out(line: string): void;
  store: ArtifactStore;
  /** Aborts on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /**
   * Publishes a run of `kind` with `spec` and follows it to its end, as `submit <kind> --wait` does
   * (progress on stderr), so a command can put work through the fleet (e.g. `synth validate`).
   */
  submitRun?(kind: string, spec: unknown): Promise<SubmittedRun>;
}

/** How a run a command submitted ended: `stopped` when the user stopped watching (the run goes on). */
export type SubmittedRun = { runId: string; status: 'completed' | 'failed' | 'stopped' };

/**
 * A command a kind adds to the CLI, e.g. `mutants <run>` or `synth validate <file>` (a name with a
 * space is a subcommand of a group). Resolves to the exit code.
 */
export type KindCommand = {
  name: string;
  description: string;
  /** Positional arguments in commander syntax: `<run>`, `[file]`. */
  args?: readonly string[];
  options?: readonly CliOption[];
  run(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<number>;
};

export type SubmitPlan = {
  spec: unknown;
  jobs: number;
  /** Shown on stderr before publishing. */
  lines: string[];
  /** Extra fields of the `--dry-run --json` answer. */
  details?: Record<string, unknown>;
};

export type KindCli = {
  description: string;
  options: readonly CliOption[];
  /** Validates options locally and builds the spec (uploading what it needs unless `dryRun`). */
  plan(opts: Record<string, unknown>, ctx: SubmitContext & { dryRun: boolean }): Promise<SubmitPlan>;
  /** Commands of its own beside `submit <kind>`. */
  commands?: readonly KindCommand[];
  /** The report's first screen from `summary.json` (`evalfleet report RUN`); JSON when absent. */
  summaryLines?(summary: unknown): string[];
  /** After `--wait` saw the run complete (e.g. write results beside an input file). */
  afterWait?(
    runId: string,
    opts: Record<string, unknown>,
    ctx: SubmitContext & { store: ArtifactStore },
  ): Promise<void>;
};

/** Everything about one workload. `defineKind` checks and erases it into a `RegisteredKind`. */
export type KindDefinition<Spec, Result> = {
  name: string;
  description: string;
  spec: z.ZodType<Spec>;
  messages: readonly MessageDef[];
  stages?: readonly StageDef[];
  pipeline: Pipeline;
  expand(ctx: ExpandContext<Spec>): Promise<Expansion>;
  /** The handlers of this kind's message types, created once per worker process. */
  worker?(host: WorkerHost): readonly Handler[] | Promise<readonly Handler[]>;
  result: z.ZodType<Result>;
  /** The group a result is counted under in the run's counters (e.g. the model). */
  group?(result: Result): string | undefined;
  /** The terminal result of a job that was dead-lettered (never scored as a pass). */
  deadLettered(info: DeadLetterInfo): Result;
  report(ctx: ReportContext<Result>): Promise<Record<string, string>>;
  /**
   * The kind's sections of the run's `report.html` (charts, tables, drill-down records as data; see
   * `@evalfleet/shared/report`). Every run gets the page; without this hook it shows the run and its
   * jobs by outcome only.
   */
  html?(ctx: HtmlReportContext<Result>): Promise<ReportPart>;
  cli?: KindCli;
};
