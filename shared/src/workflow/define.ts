import type { z } from 'zod';
import { PermanentError, ErrorCodes, RetryableError } from '../errors/index.js';
import { alreadyValidated, describeIssues, defaultRetry, type CatalogEntry } from '../messages/index.js';
import { reportHtmlName, writeRunPage } from '../report/run-page.js';
import type { ReportPart } from '../report/model.js';
import type { StoredResult } from '../runs/index.js';
import {
  PRODUCE,
  RESULT,
  type DeadLetterInfo,
  type ExpandContext,
  type Expansion,
  type Handler,
  type JobContext,
  type KindCli,
  type KindDefinition,
  type MessageDef,
  type Pipeline,
  type ReportContext,
  type StageDef,
  type Target,
  type TypedResult,
  type WorkerHost,
} from './types.js';

export type ResultRecord = Record<string, unknown>;

/**
 * A kind as the platform sees it: every function takes plain data and validates it with the kind's
 * own schemas before the kind's typed code runs, so the registry needs no casts.
 */
export interface RegisteredKind {
  readonly name: string;
  readonly description: string;
  readonly messages: readonly CatalogEntry[];
  readonly stages: readonly StageDef[];
  readonly pipeline: Pipeline;
  readonly specSchema: z.ZodType;
  readonly resultSchema: z.ZodType<ResultRecord>;
  readonly cli: KindCli | undefined;
  /** The spec with its defaults applied (as `run.json` keeps it); PermanentError when invalid. */
  parseSpec(spec: unknown): Record<string, unknown>;
  expand(ctx: ExpandContext<unknown>): Promise<Expansion>;
  worker(host: WorkerHost): Promise<readonly Handler[]>;
  parseResult(result: unknown): ResultRecord;
  group(result: ResultRecord): string | undefined;
  deadLettered(info: DeadLetterInfo): ResultRecord;
  /** Writes the run's reports, `report.html` included (see `html`). */
  report(ctx: ReportContext<unknown> & { results: StoredResult[] }): Promise<Record<string, string>>;
  /** Writes `report.html` alone (the kind's sections after the run overview); returns its key. */
  html(ctx: ReportContext<unknown> & { results: StoredResult[]; reports: Record<string, string> }): Promise<string>;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new PermanentError(ErrorCodes.schemaViolation, `invalid ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function checkPipeline(name: string, pipeline: Pipeline, types: ReadonlySet<string>): void {
  const known = (t: string) => t === RESULT || types.has(t);
  const checkTarget = (from: string, outcome: string, t: Target): void => {
    if (typeof t === 'string') {
      if (!known(t)) throw new Error(`kind ${name}: ${from} → ${outcome} goes to unknown ${t}`);
      return;
    }
    if (!types.has(t.to)) throw new Error(`kind ${name}: ${from} → ${outcome} loops to unknown ${t.to}`);
    checkTarget(from, outcome, t.otherwise);
  };
  if (!pipeline[PRODUCE]) throw new Error(`kind ${name}: the pipeline has no ${PRODUCE} step`);
  for (const [from, edges] of Object.entries(pipeline)) {
    if (from !== PRODUCE && !types.has(from)) throw new Error(`kind ${name}: pipeline step ${from} is no message type`);
    for (const [outcome, target] of Object.entries(edges)) checkTarget(from, outcome, target);
  }
}

/** Check a kind's definition and erase its types for the registry. */
export function defineKind<Spec extends Record<string, unknown>, Result extends ResultRecord>(
  def: KindDefinition<Spec, Result>,
): RegisteredKind {
  const messages: CatalogEntry[] = def.messages.map((m) => ({ ...m, retry: m.retry ?? defaultRetry }));
  const types = new Set(messages.map((m) => m.type));
  for (const m of messages) {
    if (!m.type.startsWith(`${def.name}.`))
      throw new Error(`kind ${def.name}: message type ${m.type} must start with ${def.name}.`);
  }
  checkPipeline(def.name, def.pipeline, types);
  const parseResult = (r: unknown): Result => parseWith(def.result, r, `${def.name} result`);
  const typedResults = (results: readonly StoredResult[]) =>
    results.map((r) => ({ ...r, result: parseResult(r.result) }));
  const page = async (ctx: Parameters<RegisteredKind['html']>[0], typed: TypedResult<Result>[]): Promise<string> => {
    let part: ReportPart = { sections: [] };
    try {
      if (def.html) part = await def.html({ ...ctx, results: typed });
    } catch (err) {
      // A store that may answer later is worth a retry of the whole report; anything else is the
      // kind's bug: the page is a view, so the run still completes and the page says what failed.
      if (err instanceof RetryableError) throw err;
      part = { sections: [], notes: [`The ${def.name} kind's sections of this page failed: ${String(err)}`] };
    }
    return writeRunPage(ctx.store, { record: ctx.record, results: ctx.results, reports: ctx.reports, part });
  };
  return {
    name: def.name,
    description: def.description,
    messages,
    stages: def.stages ?? [],
    pipeline: def.pipeline,
    specSchema: def.spec,
    resultSchema: def.result,
    cli: def.cli,
    parseSpec: (spec) => parseWith(def.spec, spec, `${def.name} spec`),
    expand: (ctx) => def.expand({ ...ctx, spec: parseWith(def.spec, ctx.spec, `${def.name} spec`) }),
    worker: async (host) => [...((await def.worker?.(host)) ?? [])],
    parseResult,
    group: (r) => def.group?.(parseResult(r)),
    deadLettered: (info) => parseResult(def.deadLettered(info)),
    report: async (ctx) => {
      const typed = typedResults(ctx.results);
      const reports = await def.report({ ...ctx, results: typed });
      return { ...reports, [reportHtmlName]: await page({ ...ctx, reports }, typed) };
    },
    html: (ctx) => page(ctx, typedResults(ctx.results)),
  };
}

/** A handler for one message type: its payload arrives parsed by the type's own schema. */
export function defineHandler<S extends z.ZodType>(
  def: MessageDef<S>,
  run: (payload: z.output<S>, ctx: JobContext) => Promise<void>,
): Handler {
  return {
    type: def.type,
    run: (payload, ctx) =>
      run(alreadyValidated(def.schema, payload) ?? parseWith(def.schema, payload, `${def.type} payload`), ctx),
  };
}
