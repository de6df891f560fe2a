import { fileURLToPath } from 'node:url';

import type { SandboxLogger } from './types.js';

/**
 * The Python files run by the supervisor (services/evaluator/sandbox-runtime). Baked into the image at
 * /opt/evalfleet/runtime; the process sandbox runs them from here. Resolves the same from src/ and dist/.
 */
export const RUNTIME_DIR = fileURLToPath(new URL('../../sandbox-runtime/', import.meta.url));

/** Used when the caller passes no logger: warnings and errors still reach stderr. */
export const quietLogger: SandboxLogger = {
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`[sandbox] ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`[sandbox] ${msg} ${JSON.stringify(obj)}\n`),
};
