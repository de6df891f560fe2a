import { readFileSync } from 'node:fs';
import { loadRegistry, withProviderBaseUrl, type Registry } from '../llm/index.js';
import { parseProviderUrls, registryPath } from './files.js';

/** The model registry a process uses: the YAML file, with provider base URLs overridden from config. */
export function loadRegistryFile(opts: { path?: string | undefined; providerUrls?: string | undefined }): Registry {
  let registry = loadRegistry(readFileSync(registryPath(opts.path), 'utf8'));
  for (const [provider, url] of Object.entries(parseProviderUrls(opts.providerUrls))) {
    registry = withProviderBaseUrl(registry, provider, url);
  }
  return registry;
}
