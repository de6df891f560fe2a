// The synth templates under real pytest (outside any sandbox): each clean module passes its suite,
// each bug does what it is labelled to do, the wrong expectation fails, the weak suite fails nothing,
// the Monte Carlo suite is flaky. And the answers: deterministic, and every mixed variant reachable.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBehaviour } from './behaviour.js';
import { findSynthScenario, mixedVariant, mixedVariants, synthAnswer, synthMarker, templateFor } from './synth.js';
import { applyBug, flakyTemplate, synthTemplates, weakTests, type SynthTemplate } from './synth-templates.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-synth-templates-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Imports pytest once and forks per case (a fresh interpreter per case costs seconds on a busy machine).
const driver = `
import json, os, sys
import pytest

class Recorder:
    def __init__(self):
        self.passed, self.failed = [], []
    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)
        elif report.when == "call" and report.passed:
            self.passed.append(report.nodeid)
    def pytest_collectreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid or "collect")

for where in json.load(sys.stdin):
    pid = os.fork()
    if pid == 0:
        os.chdir(where)
        sys.path.insert(0, where)
        rec = Recorder()
        sys.stdout = open(os.devnull, "w")
        pytest.main(["-q", "-p", "no:cacheprovider", *[f for f in os.listdir(".") if f.startswith("test_")]], plugins=[rec])
        with open("outcomes.json", "w") as out:
            json.dump({"passed": rec.passed, "failed": sorted(set(rec.failed))}, out)
        os._exit(0)
    os.waitpid(pid, 0)
`;

type Outcomes = { passed: string[]; failed: string[] };
type Case = { t: SynthTemplate; module: string; tests: string };

let runs = 0;
/** Runs each case's tests against its module under pytest (which runs unittest cases too). */
async function pytest(cases: readonly Case[]): Promise<Outcomes[]> {
  const dirs: string[] = [];
  for (const c of cases) {
    const where = path.join(dir, `run-${++runs}`);
    await mkdir(where);
    await writeFile(path.join(where, `${c.t.moduleName}.py`), c.module);
    await writeFile(path.join(where, `test_${c.t.moduleName}.py`), c.tests);
    dirs.push(where);
  }
  execFileSync(python, ['-c', driver], {
    input: JSON.stringify(dirs),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PYTHONDONTWRITEBYTECODE: '1',
      PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1',
    },
  });
  return Promise.all(
    dirs.map(async (d) => JSON.parse(await readFile(path.join(d, 'outcomes.json'), 'utf8')) as Outcomes),
  );
}

describe('synth templates under pytest', () => {
  it('each template: clean passes, bugs as labelled, the wrong expectation fails, the weak suite fails nothing', async () => {
    const cases = synthTemplates.flatMap((t) => {
      const valid = t.bugs.find((b) => b.effect === 'valid')!;
      return [
        { t, module: t.module, tests: t.tests },
        ...t.bugs.map((b) => ({ t, module: applyBug(t, b), tests: t.tests })),
        { t, module: t.module, tests: t.tests.replace(t.wrongExpectation.from, t.wrongExpectation.to) },
        { t, module: t.module, tests: weakTests(t) },
        { t, module: applyBug(t, valid), tests: weakTests(t) },
      ];
    });
    const outcomes = await pytest(cases);
    let i = 0;
    for (const t of synthTemplates) {
      const clean = outcomes[i++]!;
      expect(clean.failed, t.id).toEqual([]);
      expect(clean.passed.length, t.id).toBeGreaterThanOrEqual(6);
      for (const bug of t.bugs) {
        const r = outcomes[i++]!;
        if (bug.effect === 'passes') expect(r.failed, bug.description).toEqual([]);
        if (bug.effect === 'breaks') expect(r.passed, bug.description).toEqual([]);
        if (bug.effect === 'valid') {
          expect(r.failed.map((id) => id.split('::').at(-1)).sort(), bug.description).toEqual(
            [...(bug.fails ?? [])].sort(),
          );
          expect(r.passed.length, bug.description).toBeGreaterThan(0);
        }
      }
      expect(outcomes[i++]!.failed, `${t.id}: wrong expectation`).toHaveLength(1);
      for (let k = 0; k < 2; k++) {
        const weak = outcomes[i++]!;
        expect(weak.failed, `${t.id}: weak suite`).toEqual([]);
        expect(weak.passed, `${t.id}: weak suite`).toHaveLength(2);
      }
    }
  });

  it('the Monte Carlo suite gives different outcomes from run to run', async () => {
    const c = { t: flakyTemplate, module: flakyTemplate.module, tests: flakyTemplate.tests };
    const [first, second] = (await pytest([c, c])) as [Outcomes, Outcomes];
    expect(first.passed.length + first.failed.length).toBe(26);
    expect(first.passed.sort()).not.toEqual(second.passed.sort());
  });
});

describe('synth answers', () => {
  const prompt = (domain: string, topic: string, subtopic: string, extra = '') => [
    { role: 'system', content: `You write a ${synthMarker}.` },
    { role: 'user', content: `Domain: ${domain}\nTopic: ${topic}\nSubtopic: ${subtopic}\n${extra}` },
  ];
  const good = parseBehaviour('fake/always-right');
  const mixed = parseBehaviour('fake/right-fraction:0.6+prose-fraction:0.1');

  it('recognises synth conversations only', () => {
    expect(findSynthScenario(prompt('Physics', 'Optics', 'Thin lenses'))).toEqual({
      domain: 'Physics',
      topic: 'Optics',
      subtopic: 'Thin lenses',
    });
    expect(findSynthScenario([{ role: 'user', content: 'Domain: a\nTopic: b\nSubtopic: c' }])).toBeUndefined();
    expect(synthAnswer(good, [{ role: 'user', content: 'Write add(a, b).' }])).toBeUndefined();
  });

  it('answers the same prompt the same way; a good model with its one valid bug', () => {
    const messages = prompt('Physics', 'Optics', 'Thin lenses');
    const a = synthAnswer(good, messages);
    expect(synthAnswer(good, messages)).toBe(a);
    const t = templateFor({ domain: 'Physics', topic: 'Optics', subtopic: 'Thin lenses' });
    expect(a).toContain(`module_name: ${t.moduleName}`);
    expect(a?.match(/- description:/g)).toHaveLength(1);
  });

  it('a mixed model meets every variant over a few scenarios and answers retries with a valid task', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(mixedVariant({ domain: 'D', topic: 'T', subtopic: `S${i}` }));
    expect([...seen].sort()).toEqual([...mixedVariants].sort());
    const s = { domain: 'D', topic: 'T', subtopic: 'S0' };
    let i = 0;
    while (mixedVariant(s) !== 'malformed') s.subtopic = `S${++i}`;
    const first = synthAnswer(mixed, prompt(s.domain, s.topic, s.subtopic));
    expect(first).toMatch(/code: "def $/);
    const retry = synthAnswer(mixed, [
      ...prompt(s.domain, s.topic, s.subtopic),
      { role: 'assistant', content: first ?? '' },
      { role: 'user', content: 'Your answer could not be parsed.' },
    ]);
    expect(retry).toMatch(/```\n$/);
    expect(retry?.match(/- description:/g)).toHaveLength(3);
  });

  it("every answer fits the registry's default max_output_tokens (1024 tokens, 4 characters each)", () => {
    for (let i = 0; i < 60; i++) {
      const messages = prompt('Physics', 'Optics', `S${i}`);
      for (const b of [good, mixed]) {
        const answer = synthAnswer(b, messages) ?? '';
        expect(answer.length, `S${i}: ${answer.slice(0, 200)}`).toBeLessThanOrEqual(4096);
      }
    }
  });
});
