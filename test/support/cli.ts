// Runs the evalfleet CLI in-process with a test's environment and captures what it prints.
import { main } from '../../services/cli/src/main.js';

export type CliRun = { code: number; out: string; err: string };

export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'evalfleet', ...args], env, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
