// Writes deploy/grafana/dashboards/*.json from dashboards.ts: `npm run grafana:dashboards`.
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './render.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');
const files = await renderDashboards();
for (const old of await readdir(dir)) {
  if (old.endsWith('.json') && !(old in files)) await rm(path.join(dir, old));
}
for (const [name, text] of Object.entries(files)) {
  await writeFile(path.join(dir, name), text);
  console.log(`wrote deploy/grafana/dashboards/${name}`);
}
