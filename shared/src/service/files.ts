import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The model registry: `EVALFLEET_MODELS`, else `./models.yaml`, else the one bundled at the repo root. */
export function registryPath(configured: string | undefined, cwd = process.cwd()): string {
  if (configured) return path.resolve(cwd, configured);
  const local = path.resolve(cwd, 'models.yaml');
  if (existsSync(local)) return local;
  return fileURLToPath(new URL('../../../models.yaml', import.meta.url));
}

/** The repository root (bundled datasets, models.yaml, service entry points); same depth from src/ and dist/. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}
