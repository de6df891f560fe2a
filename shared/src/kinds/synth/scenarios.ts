import { z } from 'zod';
import { runKeys } from '../../runs/index.js';
import { getJson, type ArtifactStore } from '../../storage/index.js';
import type { SharedSet } from '../../workflow/index.js';
import { scenarioSchema, type Scenario } from './messages.js';

// Which scenarios are used, across runs. The store holds one claim per scenario
// (`synth/scenarios/used/<id>.json`, written with putIfAbsent: exactly one run gets each) and is the
// source of truth; the kind's shared Redis set `used-scenarios` lists the claimed ids so that an
// expansion skips them without asking the store about each. A claim the set does not know yet (Redis
// was emptied) is found when its putIfAbsent fails, and the set learns it then. A run's own
// assignment is stored once (`runs/<run>/scenarios.json`): a redelivered or resumed request gets the
// same jobs with the same scenarios.

export const usedSetName = 'used-scenarios';

export const scenarioKeys = {
  used: (id: string) => `synth/scenarios/used/${encodeURIComponent(id)}.json`,
  run: (runId: string) => runKeys.report(runId, 'scenarios.json'),
};

const claimSchema = z.object({ scenario: scenarioSchema, runId: z.string(), at: z.string() });

export const assignmentSchema = z.object({
  jobs: z.array(z.object({ model: z.string(), slot: z.number().int().nonnegative(), scenario: scenarioSchema })),
  /** Slots left without a scenario: the catalog had no unused one left. */
  short: z.number().int().nonnegative(),
  /** Scenarios this run took that an earlier run had used (`allowRepeat`). */
  repeated: z.number().int().nonnegative(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

export type AssignOptions = {
  runId: string;
  store: ArtifactStore;
  used?: SharedSet;
  /** In the order to take them. */
  scenarios: readonly Scenario[];
  models: readonly string[];
  count: number;
  allowRepeat: boolean;
};

/** Claims `scenario` for the run; true when it is the run's (new, or claimed by this run before). */
async function claim(store: ArtifactStore, runId: string, scenario: Scenario): Promise<boolean> {
  const key = scenarioKeys.used(scenario.id);
  const body = JSON.stringify({ scenario, runId, at: new Date().toISOString() });
  const { created } = await store.putIfAbsent(key, body, { contentType: 'application/json' });
  if (created) return true;
  return (await getJson(store, key, claimSchema)).runId === runId;
}

/**
 * Scenarios for `count` slots per model: each slot a scenario no run has used (unless `allowRepeat`,
 * which fills what is left with used ones, cycling through the catalog). Slot by slot, every model
 * gets its own scenario, so every task of the run is about a different one.
 */
export async function assignScenarios(o: AssignOptions): Promise<Assignment> {
  const key = scenarioKeys.run(o.runId);
  const existing = await o.store.getOptional(key);
  if (existing) return assignmentSchema.parse(JSON.parse(existing.toString('utf8')));

  const wanted = o.count * o.models.length;
  const known = (await o.used?.members()) ?? new Set<string>();
  const picked: Scenario[] = [];
  const learned: string[] = [];
  for (const s of o.scenarios) {
    if (picked.length === wanted) break;
    if (known.has(s.id)) continue;
    if (await claim(o.store, o.runId, s)) picked.push(s);
    learned.push(s.id);
  }
  await o.used?.add(learned);
  const fresh = picked.length;
  if (o.allowRepeat && o.scenarios.length > 0) {
    const taken = new Set(picked.map((s) => s.id));
    const rest = o.scenarios.filter((s) => !taken.has(s.id));
    const cycle = rest.length > 0 ? rest : o.scenarios;
    for (let i = 0; picked.length < wanted; i++) picked.push(cycle[i % cycle.length]!);
  }
  const assignment: Assignment = {
    jobs: picked.map((scenario, i) => ({
      model: o.models[i % o.models.length]!,
      slot: Math.floor(i / o.models.length),
      scenario,
    })),
    short: wanted - picked.length,
    repeated: picked.length - fresh,
  };
  // A concurrent delivery of the same request may have written first: its assignment stands.
  await o.store.putIfAbsent(key, JSON.stringify(assignment), { contentType: 'application/json' });
  return assignmentSchema.parse(JSON.parse((await o.store.get(key)).toString('utf8')));
}
