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

/** `fake=http://127.0.0.1:8089/v1,vllm=http://gpu:8000/v1` → provider → base URL. */
export function parseProviderUrls(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`EVALFLEET_PROVIDER_URLS takes provider=url pairs, got ${part}`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
