// The prompt workload end to end on real RabbitMQ, Redis and the filesystem store, with the fake
// provider answering structured requests: exact counts per stage and outcome for a two-stage
// pipeline with `when`, retries with the validation errors, a second run answered from the cache
// alone, resume, --limit / --test, and a record that lacks a template field failing at submit.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../services/fake-provider/src/index.js';
import { startAggregator } from '../services/aggregator/src/main.js';
import { startGenerator } from '../services/generator/src/main.js';
import { startProducer } from '../services/producer/src/main.js';
import type { PromptSummary } from '../shared/src/kinds/prompt/index.js';
import { runKeys, runRecordSchema } from '../shared/src/runs/index.js';
import { cli } from './support/cli.js';
import { testFleetEnv, type TestFleetEnv } from './support/fleet.js';
import { waitFor } from './support/rabbit.js';

let fleetEnv: TestFleetEnv;
let provider: FakeProvider;
let dir: string;
const stops: (() => Promise<void>)[] = [];

const models: Record<string, string> = {
  good: 'fake/always-right',
  // The first answer of every conversation is broken JSON; the retry is valid.
  retry1: 'fake/invalid-json-first:1',
  // Valid JSON that misses the schema's required fields, whatever it is told.
  stubborn: 'fake/off-schema-first:99',
  malformed: 'fake/malformed',
  // As in models.yaml: broken JSON on about 10 % of structured answers.
  'fake-mixed': 'fake/right-fraction:0.6+prose-fraction:0.1',
};

function registryYaml(url: string): string {
  const lines = ['providers:', '  fake:', `    base_url: ${url}`, '    api_key_env: null', 'models:'];
  for (const [name, id] of Object.entries(models))
    lines.push(
      `  ${name}:`,
      '    provider: fake',
      `    model: ${id}`,
      '    input_per_mtok: 1',
      '    output_per_mtok: 2',
    );
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  provider = await startFakeProvider({ port: 0, host: '127.0.0.1', seed: 'prompt-test' });
  fleetEnv = await testFleetEnv('prompt');
  dir = path.join(fleetEnv.artifactDir, 'inputs');
  await mkdir(dir, { recursive: true });
  const registryFile = path.join(fleetEnv.artifactDir, 'models.test.yaml');
  await writeFile(registryFile, registryYaml(provider.url));
  fleetEnv.env['EVALFLEET_MODELS'] = registryFile;
  for (const start of [startProducer, startGenerator, startAggregator]) {
    const s = await start({ env: fleetEnv.env, installSignals: false, cwd: fleetEnv.artifactDir });
    stops.push(() => s.shutdown());
  }
}, 60_000);

afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await provider?.close();
  await fleetEnv?.cleanup();
});

const issues = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `issue-${i + 1}`,
    title: `Report ${i + 1}: worker stops after ${i + 3} requests`,
    body: `Seen on build ${1000 + i}; logs attached.`,
  }));

async function inputs(name: string, pipeline: string, records: readonly object[]) {
  const pipelineFile = path.join(dir, `${name}.yaml`);
  const recordsFile = path.join(dir, `${name}.jsonl`);
  await writeFile(pipelineFile, pipeline);
  await writeFile(recordsFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { pipelineFile, recordsFile };
}

async function submit(files: { pipelineFile: string; recordsFile: string }, runId: string, ...extra: string[]) {
  const r = await cli(
    fleetEnv.env,
    'submit',
    'prompt',
    '--pipeline',
    files.pipelineFile,
    '--records',
    files.recordsFile,
    '--run-id',
    runId,
    ...extra,
  );
  return r;
}

async function run(files: { pipelineFile: string; recordsFile: string }, runId: string, ...extra: string[]) {
  const r = await submit(files, runId, '--wait', '--json', ...extra);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as PromptSummary;
}

async function jsonl<T>(runId: string, name: string): Promise<T[]> {
  const text = (await fleetEnv.store.get(runKeys.report(runId, name))).toString('utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
}

const byName = (s: PromptSummary) => new Map(s.stages.map((x) => [x.name, x]));

const triage = `
name: triage
defaults: { model: good, max_tokens: 256 }
stages:
  - name: classify
    system: You triage issue reports.
    user: "Title: {{title}}\\n\\n{{body}}"
    schema:
      type: object
      properties:
        is_bug: { type: boolean }
        confidence: { type: number, minimum: 0, maximum: 1 }
        reason: { type: string, maxLength: 80 }
      required: [is_bug, confidence, reason]
  - name: root_cause
    when: stages.classify.is_bug == true
    user: "Bug: {{title}}. Classifier said: {{stages.classify.reason}}. Root cause category?"
    schema:
      type: object
      properties:
        category: { enum: [memory, concurrency, logic, configuration] }
        tags: { type: array, items: { type: string } }
      required: [category]
`;

describe('prompt run', () => {
  it(
    'two stages with when: exact counts, reports, status; a second run makes no provider call; resubmitting resumes',
    { timeout: 180_000 },
    async () => {
      const n = 12;
      const files = await inputs('triage', triage, issues(n));
      provider.reset();
      const out = path.join(dir, 'out-two');
      const summary = await run(files, 'prompt-two', '--out', out);

      // Which records are bugs is the fake's (deterministic) choice: read it from the first stage's answers.
      const classify = await jsonl<{ id: string; outcome: string; answer: { is_bug: boolean } }>(
        'prompt-two',
        'stages/classify.jsonl',
      );
      expect(classify.map((r) => r.id)).toEqual(issues(n).map((r) => r.id));
      const bugs = classify.filter((r) => r.answer.is_bug).length;
      expect(bugs).toBeGreaterThan(0);
      expect(bugs).toBeLessThan(n);

      const stages = byName(summary);
      expect(stages.get('classify')?.outcomes).toMatchObject({ ok: n, skipped: 0, invalid_answer: 0, not_run: 0 });
      expect(stages.get('root_cause')?.outcomes).toMatchObject({ ok: bugs, skipped: n - bugs, invalid_answer: 0 });
      expect(stages.get('classify')?.calls).toBe(n);
      expect(stages.get('root_cause')?.calls).toBe(bugs);
      expect(summary.calls).toBe(n + bugs);
      expect(summary.cached).toBe(0);
      expect(summary.jobs).toEqual({ complete: n, incomplete: 0, dead_lettered: 0 });
      expect(summary.costUsd).toBeGreaterThan(0);
      // The provider saw exactly the calls the summary counts.
      expect(provider.log()).toHaveLength(n + bugs);

      const merged = await jsonl<{ id: string; title: string; stages: Record<string, unknown> }>(
        'prompt-two',
        'merged.jsonl',
      );
      expect(merged).toHaveLength(n);
      expect(merged[0]?.title).toBe(issues(n)[0]?.title);
      expect(merged.filter((m) => m.stages['root_cause'] === null)).toHaveLength(n - bugs);
      expect(merged.every((m) => m.stages['classify'] !== null)).toBe(true);

      const csv = (await fleetEnv.store.get(runKeys.report('prompt-two', 'results.csv'))).toString('utf8');
      const lines = csv.trimEnd().split('\r\n');
      expect(lines[0]).toBe(
        'id,classify.outcome,classify.is_bug,classify.confidence,classify.reason,root_cause.outcome,root_cause.category',
      );
      expect(lines).toHaveLength(n + 1);
      expect(lines.filter((l) => l.includes(',skipped,'))).toHaveLength(n - bugs);

      // --out copied the reports; `report` shows a line per pipeline stage.
      const copied = await readFile(path.join(out, 'stages', 'root_cause.jsonl'), 'utf8');
      expect(copied.trim().split('\n')).toHaveLength(n);
      expect(await readFile(path.join(out, 'merged.jsonl'), 'utf8')).toBe(
        (await fleetEnv.store.get(runKeys.report('prompt-two', 'merged.jsonl'))).toString('utf8'),
      );
      const report = await cli(fleetEnv.env, 'report', 'prompt-two');
      expect(report.code, report.err).toBe(0);
      expect(report.out).toContain(`${n} records, ${n} complete, 0 incomplete`);
      expect(report.out).toMatch(new RegExp(`root_cause +good +${bugs} +${n - bugs} +${bugs} +0 `));
      expect(report.out).toContain('runs/prompt-two/report.html');

      // Workers write stage progress in batches, a moment after each step: poll until it is in.
      const complete = new RegExp(`generate/root_cause: ok ${bugs} skipped ${n - bugs}`);
      const status = await waitFor('stage progress written', async () => {
        const s = await cli(fleetEnv.env, 'status', 'prompt-two');
        return complete.test(s.out) ? s : undefined;
      });
      expect(status.out).toContain(`completed, ${n}/${n} jobs done`);
      // Progress by the pipeline's own stages.
      expect(status.out).toMatch(new RegExp(`generate/classify: ok ${n}(?! skipped)`));
      expect(status.out).toMatch(new RegExp(`generate/root_cause: ok ${bugs} skipped ${n - bugs}`));

      // Another run of the same records and pipeline: every answer from the cache.
      provider.reset();
      const again = await run(files, 'prompt-two-again');
      expect(again.calls).toBe(0);
      expect(again.cached).toBe(n + bugs);
      expect(byName(again).get('root_cause')?.outcomes).toMatchObject({ ok: bugs, skipped: n - bugs });
      expect(provider.log()).toHaveLength(0);

      // --no-cache asks the provider again (and the answers are the same: deterministic per record).
      const forced = await run(files, 'prompt-two-forced', '--no-cache');
      expect(forced.calls).toBe(n + bugs);
      expect(forced.cached).toBe(0);
      expect(provider.log()).toHaveLength(n + bugs);
      expect(byName(forced).get('root_cause')?.outcomes).toMatchObject({ ok: bugs, skipped: n - bugs });
      provider.reset();

      // Resubmitting the first run id resumes it: every job is done already.
      const resumed = await submit(files, 'prompt-two');
      expect(resumed.code, resumed.err).toBe(0);
      const record = await waitFor(
        'the resumed run record',
        async () => {
          const body = await fleetEnv.store.getOptional(runKeys.record('prompt-two'));
          const parsed = body && runRecordSchema.parse(JSON.parse(body.toString('utf8')));
          return parsed && parsed.skippedJobs === n ? parsed : undefined;
        },
        30_000,
      );
      expect(record.totalJobs).toBe(n);
      expect(provider.log()).toHaveLength(0);
    },
  );

  it(
    'retries invalid answers with the errors, records invalid_answer and malformed, skips what lacks an answer',
    { timeout: 120_000 },
    async () => {
      const pipeline = `
defaults: { max_tokens: 256, max_retries: 2 }
stages:
  - name: first
    model: retry1
    user: "Summarize {{title}}"
    schema: { type: object, properties: { summary: { type: string } }, required: [summary] }
  - name: second
    model: stubborn
    user: "Categorize {{stages.first.summary}}"
    schema: { type: object, properties: { category: { enum: [a, b] } }, required: [category] }
  - name: third
    model: malformed
    user: "Anything about {{title}}?"
    schema: { type: object }
  - name: fourth
    model: good
    user: "Given {{stages.second.category}}"
    schema: { type: object }
`;
      const n = 4;
      const files = await inputs('retries', pipeline, issues(n));
      provider.reset();
      const summary = await run(files, 'prompt-retries');
      const stages = byName(summary);
      expect(stages.get('first')).toMatchObject({ outcomes: { ok: n }, tries: 2 * n, calls: 2 * n });
      expect(stages.get('second')).toMatchObject({ outcomes: { invalid_answer: n }, tries: 3 * n, calls: 3 * n });
      expect(stages.get('third')).toMatchObject({ outcomes: { malformed: n }, tries: n, calls: n });
      expect(stages.get('fourth')).toMatchObject({ outcomes: { skipped: n }, tries: 0, calls: 0 });
      expect(summary.calls).toBe(2 * n + 3 * n + n);
      expect(provider.log()).toHaveLength(2 * n + 3 * n + n);
      expect(summary.jobs).toEqual({ complete: 0, incomplete: n, dead_lettered: 0 });

      const second = await jsonl<{ outcome: string; errors: string[]; reason: string }>(
        'prompt-retries',
        'stages/second.jsonl',
      );
      expect(second[0]).toMatchObject({
        outcome: 'invalid_answer',
        reason: 'the answer does not match the JSON schema',
        errors: ["the answer must have required property 'category'"],
      });
      const fourth = await jsonl<{ reason: string }>('prompt-retries', 'stages/fourth.jsonl');
      expect(fourth.map((r) => r.reason)).toEqual(Array.from({ length: n }, () => 'no answer from second'));
    },
  );

  it('--limit and --test take the first records; --dry-run publishes nothing', { timeout: 60_000 }, async () => {
    const pipeline = `
stages:
  - name: only
    model: good
    max_tokens: 64
    user: "Is {{title}} a duplicate?"
    schema: { type: object, properties: { duplicate: { type: boolean } }, required: [duplicate] }
`;
    const files = await inputs('limit', pipeline, issues(9));
    provider.reset();
    const summary = await run(files, 'prompt-limit', '--limit', '3');
    expect(summary.totalJobs).toBe(3);
    expect(summary.records).toBe(3);
    expect(summary.calls).toBe(3);
    expect(provider.log()).toHaveLength(3);
    const merged = await jsonl<{ id: string }>('prompt-limit', 'merged.jsonl');
    expect(merged.map((m) => m.id)).toEqual(['issue-1', 'issue-2', 'issue-3']);

    const dry = await submit(files, 'prompt-test-dry', '--test', '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, jobs: 5, records: 5, stages: ['only'] });
    expect(await fleetEnv.store.exists(runKeys.record('prompt-test-dry'))).toBe(false);

    const both = await submit(files, 'prompt-both', '--test', '--limit', '2');
    expect(both.code).toBe(1);
    expect(both.err).toContain('--limit and --test exclude each other');
  });

  it('a record that lacks a template field fails at submit, naming the record', async () => {
    const records: Record<string, unknown>[] = issues(8);
    delete records[6]!['body'];
    const files = await inputs('missing', triage, records);
    const r = await submit(files, 'prompt-missing', '--wait');
    expect(r.code).toBe(1);
    expect(r.err).toContain('record issue-7 (line 7) has no body, which stage classify uses as {{body}}');
    expect(await fleetEnv.store.exists(runKeys.record('prompt-missing'))).toBe(false);

    // Limited to the records before it, the same files submit.
    const dry = await submit(files, 'prompt-missing', '--limit', '6', '--dry-run');
    expect(dry.code, dry.err).toBe(0);
  });

  it(
    'runs the bundled example, whose records the committed script regenerates byte for byte',
    { timeout: 120_000 },
    async () => {
      const committed = await readFile('datasets/prompt-example/records.jsonl', 'utf8');
      const generated = execFileSync(process.execPath, ['datasets/prompt-example/generate.js', '--stdout'], {
        encoding: 'utf8',
      });
      expect(generated).toBe(committed);
      expect(committed.trim().split('\n')).toHaveLength(200);

      const n = 40;
      provider.reset();
      const summary = await run(
        { pipelineFile: 'datasets/prompt-example/pipeline.yaml', recordsFile: 'datasets/prompt-example/records.jsonl' },
        'prompt-example',
        '--limit',
        String(n),
      );
      const stages = byName(summary);
      const classify = stages.get('classify')!;
      const rootCause = stages.get('root_cause')!;
      expect(classify.outcomes.ok + classify.outcomes.invalid_answer).toBe(n);
      expect(rootCause.outcomes.ok + rootCause.outcomes.invalid_answer + rootCause.outcomes.skipped).toBe(n);
      expect(rootCause.outcomes.skipped).toBeGreaterThan(0);
      // Every try was a provider call (nothing cached yet), and the provider saw each once.
      expect(classify.calls).toBe(classify.tries);
      expect(summary.calls).toBe(classify.tries + rootCause.tries);
      expect(provider.log()).toHaveLength(summary.calls);
      const merged = await jsonl<{ id: string; expected_kind: string; stages: { classify: unknown } }>(
        'prompt-example',
        'merged.jsonl',
      );
      expect(merged.map((m) => m.id)).toEqual(
        Array.from({ length: n }, (_, i) => `ISSUE-${String(i + 1).padStart(4, '0')}`),
      );
      expect(merged.every((m) => typeof m.expected_kind === 'string')).toBe(true);
    },
  );
});
