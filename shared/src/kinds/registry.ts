import { KindRegistry, loadKindModules, type RegisteredKind } from '../workflow/index.js';
import { echoKind } from './echo/index.js';
import { mutationKind } from './mutation/index.js';
import { promptKind } from './prompt/index.js';
import { repairKind } from './repair/index.js';
import { solveKind } from './solve/index.js';
import { synthKind } from './synth/index.js';

/** The workloads that ship with evalfleet: one line each. */
export const builtinKinds: readonly RegisteredKind[] = [
  echoKind,
  solveKind,
  promptKind,
  repairKind,
  mutationKind,
  synthKind,
];

/**
 * The registry a process runs with: the built-in kinds plus those loaded by module specifier
 * (`EVALFLEET_KINDS`, comma-separated paths or package names).
 */
export async function loadKindRegistry(
  opts: { modules?: string | undefined; cwd?: string } = {},
): Promise<KindRegistry> {
  return new KindRegistry([...builtinKinds, ...(await loadKindModules(opts.modules, opts.cwd))]);
}
