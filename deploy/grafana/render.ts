import { format } from 'prettier';
import { buildDashboards } from './dashboards.js';

/** Each dashboard as the JSON file Grafana provisions (formatted as the repository's prettier formats JSON). */
export async function renderDashboards(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, dashboard] of Object.entries(buildDashboards())) {
    out[`${name}.json`] = await format(JSON.stringify(dashboard), {
      parser: 'json',
      singleQuote: true,
      printWidth: 120,
      trailingComma: 'all',
    });
  }
  return out;
}
