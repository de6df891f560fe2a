// The supervisor's policy and state machine without processes: fake children that exit when
// told to. Real processes under `evalfleet up` are tested in test/up-supervise.test.ts.
import { describe, expect, it, vi } from 'vitest';
import {
  decideRestart,
  restartPolicyFrom,
  Supervisor,
  type ChildExit,
  type ChildHandle,
  type ChildState,
  type RestartPolicy,
  type SupervisorEvent,
} from './supervisor.js';

const policy: RestartPolicy = { maxCrashes: 3, windowMs: 10_000, backoffMs: 100, backoffMaxMs: 1_000, jitter: 0 };

class FakeChild implements ChildHandle {
  static nextPid = 1000;
  readonly pid = FakeChild.nextPid++;
  readonly signals: NodeJS.Signals[] = [];
  readonly exited: Promise<ChildExit>;
  private end!: (e: ChildExit) => void;

  constructor(
    private readonly stderr: string[] = [],
    /** A child that ignores SIGTERM (stuck draining) only ends on SIGKILL. */
    private readonly ignoresTerm = false,
  ) {
    this.exited = new Promise((resolve) => (this.end = resolve));
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL') this.end({ code: null, signal });
    else if (!this.ignoresTerm) this.end({ code: 143, signal: null });
  }

  crash(code = 1): void {
    this.end({ code, signal: null });
  }

  stderrTail(): string[] {
    return this.stderr;
  }
}

function harness(p: RestartPolicy = policy, opts: { now?: () => number; childOpts?: () => FakeChild } = {}) {
  const children: FakeChild[] = [];
  const events: SupervisorEvent[] = [];
  const states: ChildState[] = [];
  const sup = new Supervisor({ policy: p, onEvent: (e) => events.push(e), random: () => 0.5, ...opts });
  sup.onChange(() => {
    const s = sup.snapshot()[0]?.state;
    if (s && states[states.length - 1] !== s) states.push(s);
  });
  sup.add({
    name: 'evaluator.1',
    spawn: () => {
      const c = opts.childOpts?.() ?? new FakeChild([`stderr of child ${children.length + 1}`]);
      children.push(c);
      return c;
    },
  });
  const state = () => sup.snapshot()[0]?.state;
  return { sup, children, events, states, state };
}

describe('decideRestart', () => {
  it('doubles the delay with each crash in the window, up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => {
      const d = decideRestart(
        Array.from({ length: n }, () => 0),
        0,
        { ...policy, maxCrashes: 10 },
      );
      return d.restart ? d.delayMs : -1;
    });
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('takes up to the jitter fraction off at random, never adds to it', () => {
    const p = { ...policy, jitter: 0.25 };
    expect(decideRestart([0, 0], 0, p, () => 0)).toEqual({ restart: true, delayMs: 200, crashes: 2 });
    expect(decideRestart([0, 0], 0, p, () => 0.999999)).toEqual({ restart: true, delayMs: 150, crashes: 2 });
  });

  it('gives up at the Nth crash within the window; crashes older than the window do not count', () => {
    expect(decideRestart([0, 1, 2], 2, policy)).toEqual({ restart: false, crashes: 3 });
    // Stable for longer than the window: the count (and so the delay) starts over.
    expect(decideRestart([0, 1, 20_000], 20_000, policy)).toEqual({ restart: true, delayMs: 100, crashes: 1 });
  });
});

describe('restartPolicyFrom', () => {
  it('reads the environment, flags win, defaults otherwise', () => {
    expect(restartPolicyFrom({})).toEqual({
      maxCrashes: 5,
      windowMs: 60_000,
      backoffMs: 500,
      backoffMaxMs: 30_000,
      jitter: 0.25,
    });
    const p = restartPolicyFrom({ EVALFLEET_UP_MAX_CRASHES: '2', EVALFLEET_UP_BACKOFF_MS: '50' }, { maxCrashes: 7 });
    expect(p).toMatchObject({ maxCrashes: 7, backoffMs: 50 });
    expect(() => restartPolicyFrom({ EVALFLEET_UP_MAX_CRASHES: '0' })).toThrow(/EVALFLEET_UP_MAX_CRASHES/);
  });
});

describe('Supervisor', () => {
  it('restarts a crashed child after its backoff, reporting how it ended and its last stderr lines', async () => {
    const { sup, children, events, states, state } = harness();
    await vi.waitFor(() => expect(state()).toBe('running'));
    children[0]!.crash(3);
    await vi.waitFor(() => expect(children).toHaveLength(2));
    await vi.waitFor(() => expect(state()).toBe('running'));
    expect(states).toEqual(['starting', 'running', 'backoff', 'starting', 'running']);
    const crashed = events.find((e) => e.type === 'crashed');
    expect(crashed).toMatchObject({
      name: 'evaluator.1',
      pid: children[0]!.pid,
      exit: { code: 3, signal: null },
      stderr: ['stderr of child 1'],
      crashes: 1,
      delayMs: 100,
    });
    expect(events.filter((e) => e.type === 'started').map((e) => e.type === 'started' && e.restarts)).toEqual([0, 1]);
    expect(sup.snapshot()[0]).toMatchObject({ restarts: 1, pid: children[1]!.pid });
    await sup.stop(1000);
  });

  it('gives up after maxCrashes within the window and starts nothing more', async () => {
    const { sup, children, events, state } = harness({ ...policy, backoffMs: 1 });
    let given = false;
    void sup.allGivenUp().then(() => (given = true));
    for (let i = 0; i < 3; i++) {
      await vi.waitFor(() => expect(children).toHaveLength(i + 1));
      children[i]!.crash();
    }
    await vi.waitFor(() => expect(state()).toBe('given_up'));
    await vi.waitFor(() => expect(given).toBe(true));
    expect(children).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'gave_up', crashes: 3, stderr: ['stderr of child 3'] });
    // Stopping leaves a given-up child as it is: the summary needs to say so.
    await sup.stop(1000);
    expect(state()).toBe('given_up');
  });

  it('never gives up on a child whose crashes are further apart than the window', async () => {
    let now = 0;
    const { sup, children, state } = harness({ ...policy, backoffMs: 1 }, { now: () => now });
    for (let i = 0; i < 5; i++) {
      await vi.waitFor(() => expect(children).toHaveLength(i + 1));
      now += 20_000;
      children[i]!.crash();
    }
    await vi.waitFor(() => expect(children).toHaveLength(6));
    expect(state()).toBe('running');
    await sup.stop(1000);
  });

  it('stop() sends SIGTERM, restarts nothing, and ends in stopped', async () => {
    const { sup, children, events, state } = harness();
    await vi.waitFor(() => expect(state()).toBe('running'));
    await sup.stop(1000);
    expect(children).toHaveLength(1);
    expect(children[0]!.signals).toEqual(['SIGTERM']);
    expect(state()).toBe('stopped');
    expect(events.at(-1)).toMatchObject({ type: 'stopped', exit: { code: 143 } });
  });

  it('a child still alive after the grace period gets SIGKILL', async () => {
    const { sup, children, state } = harness(policy, { childOpts: () => new FakeChild([], true) });
    await vi.waitFor(() => expect(state()).toBe('running'));
    await sup.stop(20);
    expect(children[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(state()).toBe('stopped');
  });

  it('stop() during a backoff ends the wait at once and does not restart', async () => {
    const { sup, children, state } = harness({ ...policy, backoffMs: 60_000, backoffMaxMs: 60_000 });
    await vi.waitFor(() => expect(children).toHaveLength(1));
    children[0]!.crash();
    await vi.waitFor(() => expect(state()).toBe('backoff'));
    await sup.stop(1000);
    expect(state()).toBe('stopped');
    expect(children).toHaveLength(1);
  });

  it('a child is starting until its readiness probe answers', async () => {
    const sup = new Supervisor({ policy });
    let ready!: () => void;
    const child = new FakeChild();
    sup.add({
      name: 'producer.1',
      spawn: () => child,
      ready: () => new Promise<void>((resolve) => (ready = resolve)),
    });
    await vi.waitFor(() => expect(ready).toBeTypeOf('function'));
    expect(sup.snapshot()[0]?.state).toBe('starting');
    ready();
    await vi.waitFor(() => expect(sup.snapshot()[0]?.state).toBe('running'));
    await sup.stop(1000);
  });

  it('a spawn that throws counts as a crash', async () => {
    const sup = new Supervisor({ policy: { ...policy, backoffMs: 1 } });
    let attempts = 0;
    sup.add({
      name: 'aggregator.1',
      spawn: () => {
        attempts++;
        throw new Error('no free port');
      },
    });
    await sup.allGivenUp();
    expect(attempts).toBe(3);
    expect(sup.snapshot()[0]?.lastExit).toEqual({ code: null, signal: null, error: 'no free port' });
  });
});
