// Grafana dashboards as code: the committed JSON (deploy/grafana/dashboards/*.json) is exactly what
// deploy/grafana/dashboards.ts generates (run `npm run grafana:dashboards` after editing it), and every
// panel queries the Prometheus datasource variable.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderDashboards } from '../../deploy/grafana/render.js';
import { dashboardQueries } from './support/dashboard-queries.js';

const dir = 'deploy/grafana/dashboards';

describe('grafana dashboards', () => {
  it('the committed JSON matches the code (no drift)', async () => {
    const generated = await renderDashboards();
    const committed = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(committed, 'run npm run grafana:dashboards').toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) {
      expect(await readFile(`${dir}/${name}`, 'utf8'), `${name} drifted: run npm run grafana:dashboards`).toBe(text);
    }
  });

  it('fleet overview, LLM, sandbox and runs, each with unique uids and queries on the datasource variable', async () => {
    const queries = await dashboardQueries();
    const uids = new Set(queries.map((q) => q.dashboard));
    expect([...uids].sort()).toEqual(['evalfleet-fleet', 'evalfleet-llm', 'evalfleet-runs', 'evalfleet-sandbox']);
    expect(queries.length).toBeGreaterThan(30);
    for (const q of queries) {
      expect(q.datasource, q.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(q.expr, q.title).toMatch(/evalfleet_|up\{|process_/);
    }
  });
});
