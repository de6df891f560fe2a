import { Command, InvalidArgumentError, Option } from 'commander';
import { CliContext } from './context.js';
import { dlqInspectCommand, dlqListCommand, dlqPurgeCommand, dlqRequeueCommand } from './commands/dlq.js';
import { demoCommand } from './commands/demo.js';
import { modelsCommand } from './commands/models.js';
import { reportCommand } from './commands/report.js';
import { runsCommand } from './commands/runs.js';
import { statusCommand, watchCommand } from './commands/status.js';
import { resumeRun, submitAndWait, submitContext, submitKind } from './commands/submit.js';
import { traceCommand, tracesCommand, type TracesOptions } from './commands/traces.js';
import type { CliOption } from '@evalfleet/shared/workflow';
import { upCommand, type UpOptions } from './commands/up.js';
import { downCommand } from './commands/down.js';
import { logsCommand } from './commands/logs.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];

/** A kind's option (plain data) as a commander option. */
function commanderOption(o: CliOption): Option {
  const opt = new Option(o.flags, o.description);
  const name = o.flags.replace(/^-+/, '').split(/[ ,]/)[0] ?? o.flags;
  if (o.type === 'int') opt.argParser(int(`--${name}`));
  if (o.type === 'number') opt.argParser(num(`--${name}`));
  if (o.choices) opt.choices(o.choices);
  if (o.default !== undefined) opt.default(o.default);
  if (o.required) opt.makeOptionMandatory();
  return opt;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  },
): Promise<number> {
  let ctx: CliContext | undefined;
  const context = () => (ctx ??= new CliContext(env, io));
  let code = 0;
  const run = (fn: (c: CliContext) => Promise<number> | number) => async () => {
    code = await fn(context());
  };

  const program = new Command('evalfleet')
    .description('Submit LLM evaluation runs to the evalfleet fleet, watch them, read reports, manage dead letters.')
    .showHelpAfterError()
    .exitOverride();

  const submit = program.command('submit').description('start a run (publishes one run.requested message)');
  // One subcommand per registered kind, with the kind's own options.
  for (const kind of (await context().registry()).kinds()) {
    if (!kind.cli) continue;
    const cmd = submit.command(kind.name).description(kind.cli.description);
    for (const o of kind.cli.options) cmd.addOption(commanderOption(o));
    cmd
      .option('--dry-run', 'validate and print the job count; publish nothing')
      .option('--run-id <id>', 'run id (re-submitting an existing id resumes it)')
      .option('--wait', 'show progress until the run completes')
      .option('--json', 'machine-readable output on stdout (with --wait: the run summary)')
      .action(async (opts: Record<string, unknown>) => run((c) => submitKind(c, kind.name, opts))());
  }

  // Commands the kinds bring (`mutants <run>`, `synth validate <file>`, ...).
  const groups = new Map<string, Command>();
  for (const kind of (await context().registry()).kinds()) {
    for (const kc of kind.cli?.commands ?? []) {
      const words = kc.name.split(' ');
      const leaf = words.pop() ?? kc.name;
      let parent: Command = program;
      for (const word of words) {
        const key = `${parent.name()} ${word}`;
        let group = groups.get(key);
        if (!group) {
          group = parent.command(word).description(`${word} commands`);
          groups.set(key, group);
        }
        parent = group;
      }
      const cmd = parent.command([leaf, ...(kc.args ?? [])].join(' ')).description(kc.description);
      for (const o of kc.options ?? []) cmd.addOption(commanderOption(o));
      cmd.option('--json', 'machine-readable output').action(async (...params: unknown[]) => {
        const positional = params.slice(0, kc.args?.length ?? 0).map((p) => (typeof p === 'string' ? p : ''));
        const opts = (params[kc.args?.length ?? 0] ?? {}) as Record<string, unknown>;
        await run((c) =>
          kc.run(positional, opts, {
            ...submitContext(c),
            out: (l) => c.out(l),
            store: c.store(),
            signal: c.signals.signal,
            submitRun: (kind, spec) => submitAndWait(c, kind, spec),
          }),
        )();
      });
    }
  }

  program
    .command('resume <run>')
    .description("re-publish a run's stored request; jobs already finished are skipped")
    .option('--wait', 'show progress until the run completes')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: { wait?: boolean; json?: boolean }) => run((c) => resumeRun(c, runId, opts))());
  program
    .command('models')
    .description('list registered models with their API key status')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => run((c) => modelsCommand(c, opts))());
  program
    .command('runs')
    .description('list runs in the artifact store')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => run((c) => runsCommand(c, opts))());
  program
    .command('status <run>')
    .description("a run's progress by stage and outcome")
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: { json?: boolean }) => run((c) => statusCommand(c, runId, opts))());
  program
    .command('watch <run>')
    .description('progress bar until the run completes (Ctrl-C stops watching, not the run)')
    .action(async (runId: string) => run((c) => watchCommand(c, runId))());
  program
    .command('report <run>')
    .description("a completed run's per-model summary and report files")
    .option('--json', 'print summary.json')
    .option('--out <dir>', 'copy every report file into this directory')
    .option('--rebuild', 'rebuild the reports from stored results (also for an incomplete run)')
    .option('--html', 'write report.html (charts, drill-down) from stored results, to the store and a local file')
    .option('--open', 'with --html: open the page in the browser')
    .action(async (runId: string, opts: Parameters<typeof reportCommand>[2]) =>
      run((c) => reportCommand(c, runId, opts))(),
    );

  program
    .command('traces <run>')
    .description("a run's LLM calls: job, attempt, model, latency, tokens, cost, outcome, retry reason")
    .option('--model <model>', 'only calls to this model')
    .option('--outcome <outcome>', 'only calls with this outcome (ok, rate_limited, provider_unavailable, ...)')
    .option('--task <task>', "only calls of jobs about this task (from the job's result)")
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: TracesOptions) => run((c) => tracesCommand(c, runId, opts))());
  program
    .command('trace <run> <job>')
    .description("one LLM call's messages and response (the job's latest attempt)")
    .option('--attempt <n>', 'this attempt instead', int('--attempt'))
    .option('--json', 'the stored trace')
    .action(async (runId: string, jobId: string, opts: { attempt?: number; json?: boolean }) =>
      run((c) => traceCommand(c, runId, jobId, opts))(),
    );

  const dlq = program.command('dlq').description('dead-letter queues: list, inspect, requeue, purge');
  dlq
    .command('list')
    .description('per stage: queued, consumers, dead letters and the oldest one’s age')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => run((c) => dlqListCommand(c, opts))());
  dlq
    .command('inspect <stage>')
    .description("dead letters' reasons, attempts, history and payload summary (nothing is consumed)")
    .option('--limit <n>', 'at most this many', int('--limit'), 20)
    .option('--json', 'machine-readable output')
    .action(async (stage: string, opts: { limit?: number; json?: boolean }) =>
      run((c) => dlqInspectCommand(c, stage, opts))(),
    );
  dlq
    .command('requeue <stage>')
    .description('move dead letters back to their work queue, each exactly once, attempt reset, history kept')
    .option('--filter <code>', 'only dead letters with this error code')
    .option('--limit <n>', 'at most this many', int('--limit'))
    .option('--json', 'machine-readable output')
    .action(async (stage: string, opts: { filter?: string; limit?: number; json?: boolean }) =>
      run((c) => dlqRequeueCommand(c, stage, opts))(),
    );
  dlq
    .command('purge <stage>')
    .description('delete every dead letter of a stage')
    .option('--yes', 'really delete')
    .option('--json', 'machine-readable output')
    .action(async (stage: string, opts: { yes?: boolean; json?: boolean }) =>
      run((c) => dlqPurgeCommand(c, stage, opts))(),
    );

  program
    .command('up')
    .description(
      'start every service locally as supervised child processes: crashed ones restart with backoff, ' +
        'one that keeps crashing is given up on (exit code 1); Ctrl-C or evalfleet down stops them gracefully',
    )
    .option('--scale <service=n>', 'instances of a service, e.g. evaluate=2 (repeatable)', collect, [])
    .option('--fake-provider', 'also start the fake OpenAI-compatible provider and point the fake models at it')
    .option('-d, --detach', 'run in the background: pid in .evalfleet/up.pid, logs in .evalfleet/logs/')
    .option('--log-dir <dir>', "each instance's output into <dir>/<instance>.log instead of the terminal")
    .option(
      '--base-port <port>',
      'first metrics port (producer; generator +10, evaluator +20, aggregator +30); 0: free ports',
      int('--base-port'),
    )
    .option(
      '--max-crashes <n>',
      'give up on an instance after this many crashes within the window (EVALFLEET_UP_MAX_CRASHES, 5)',
      int('--max-crashes'),
    )
    .option(
      '--crash-window-ms <ms>',
      'the window crashes are counted in (EVALFLEET_UP_CRASH_WINDOW_MS, 60000)',
      int('--crash-window-ms'),
    )
    .option(
      '--backoff-ms <ms>',
      'first restart delay, doubled per crash in the window (EVALFLEET_UP_BACKOFF_MS, 500)',
      int('--backoff-ms'),
    )
    .option(
      '--backoff-max-ms <ms>',
      'longest restart delay (EVALFLEET_UP_BACKOFF_MAX_MS, 30000)',
      int('--backoff-max-ms'),
    )
    .action(async (opts: UpOptions) => run((c) => upCommand(c, opts, env))());
  program
    .command('down')
    .description('stop the fleet `evalfleet up` runs from this directory: SIGTERM, then SIGKILL after the grace period')
    .option('--grace-ms <ms>', 'how long the services get to finish their in-flight work', int('--grace-ms'), 60_000)
    .action(async (opts: { graceMs: number }) => run((c) => downCommand(c, opts, env))());
  program
    .command('logs [service]')
    .description('print the logs of a detached fleet: all, a service (evaluator), an instance (evaluator.2) or up')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --tail <n>', 'only the last n lines of each file', int('--tail'))
    .option('--raw', 'the JSON lines as written')
    .action(async (service: string | undefined, opts: { follow?: boolean; tail?: number; raw?: boolean }) =>
      run((c) => logsCommand(c, service, opts, env))(),
    );
  program
    .command('demo')
    .description('start the fleet with a fake provider, evaluate two fake models on the bundled set, print the summary')
    .option('--samples-per-task <n>', 'samples per problem and model', int('--samples-per-task'), 3)
    .option('--scale <service=n>', 'instances of a service (repeatable)', collect, [])
    .action(async (opts: { samplesPerTask: number; scale: string[] }) => run((c) => demoCommand(c, opts, env))());

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? 0
        : (e.exitCode ?? 1);
    }
    io.err(`evalfleet: ${e.message ?? String(err)}`);
    code = 1;
  } finally {
    await ctx?.close();
  }
  return code;
}
