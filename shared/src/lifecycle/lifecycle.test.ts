import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger/index.js';
import { ShutdownCoordinator } from './index.js';

const logger = createLogger({ service: 'test' }, { level: 'silent' });

function setup(deadlineMs = 5_000) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const states: string[] = [];
  const c = new ShutdownCoordinator({
    logger,
    deadlineMs,
    exit: (code) => exits.push(code),
    signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
  }).install();
  c.onStateChange((s) => states.push(s));
  return { c, signals, exits, states };
}

describe('ShutdownCoordinator', () => {
  it('first SIGTERM runs every hook in order, even after one fails, then exits 143', async () => {
    const { c, signals, exits, states } = setup();
    const order: string[] = [];
    let release!: () => void;
    const inFlight = new Promise<void>((r) => (release = r));
    c.addHook('stop-consuming', () => void order.push('stop'));
    c.addHook('drain', async () => {
      await inFlight;
      order.push('drained');
    });
    c.addHook('broken', () => Promise.reject(new Error('boom')));
    c.addHook('close', () => void order.push('closed'));
    c.markRunning();
    expect(c.isReady()).toBe(true);
    signals.emit('SIGTERM');
    expect(c.isReady()).toBe(false);
    expect(exits).toEqual([]);
    release();
    await c.shutdown();
    expect(order).toEqual(['stop', 'drained', 'closed']);
    expect(exits).toEqual([143]);
    expect(states).toEqual(['running', 'stopping', 'stopped']);
  });

  it('a second signal forces exit at once', () => {
    const { c, signals, exits } = setup();
    c.addHook('hang', () => new Promise<void>(() => undefined));
    signals.emit('SIGINT');
    signals.emit('SIGINT');
    expect(exits).toEqual([130]);
  });

  it('the deadline forces exit when a hook hangs', async () => {
    const { c, signals, exits } = setup(50);
    c.addHook('hang', () => new Promise<void>(() => undefined));
    signals.emit('SIGTERM');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (exits.length > 0) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    expect(exits).toEqual([143]);
  });
});
