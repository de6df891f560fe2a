// Alert rules: promtool checks deploy/prometheus/rules.yml and runs its unit tests (rules.test.yml).
// promtool comes from Debian's prometheus package (scripts/lib/setup.sh, ef_prometheus).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';

const run = promisify(execFile);

describe('prometheus alert rules', () => {
  it('promtool check rules and promtool test rules pass', async () => {
    const check = await run('promtool', ['check', 'rules', 'deploy/prometheus/rules.yml']);
    expect(check.stdout).toContain('SUCCESS');
    const test = await run('promtool', ['test', 'rules', 'deploy/prometheus/rules.test.yml']);
    expect(test.stdout).toContain('SUCCESS');
  }, 60_000);

  it("the issue's alerts exist, each with a severity, a runbook and a unit test", async () => {
    const rules = parse(await readFile('deploy/prometheus/rules.yml', 'utf8')) as {
      groups: { rules: { alert: string; labels: { severity: string }; annotations: { runbook_url: string } }[] }[];
    };
    const tests = await readFile('deploy/prometheus/rules.test.yml', 'utf8');
    const docs = await readFile('docs/operations.md', 'utf8');
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'EvalfleetBrokerDisconnected',
      'EvalfleetDeadLetterQueueGrowing',
      'EvalfleetOldestMessageTooOld',
      'EvalfleetProvider429RateHigh',
      'EvalfleetQueueWithoutConsumers',
      'EvalfleetRunBudgetNearlySpent',
      'EvalfleetSandboxInfraErrors',
      'EvalfleetServiceDown',
    ]);
    for (const a of alerts) {
      expect(['warning', 'critical']).toContain(a.labels.severity);
      expect(a.annotations.runbook_url).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      expect(docs, `docs/operations.md has a section for ${a.alert}`).toContain(`### ${a.alert}`);
      expect(tests).toContain(`alertname: ${a.alert}`);
    }
  });
});
