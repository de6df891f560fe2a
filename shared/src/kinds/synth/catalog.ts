import { z } from 'zod';
import type { Scenario } from './messages.js';

// A scenario catalog: domain → topic → subtopics (datasets/synth-catalog.json), or a flat list of
// {domain, topic, subtopic}. Each combination is one scenario; its id is made of the three names, so
// the same combination in two catalogs is the same scenario (used once across both).

const name = z.string().trim().min(1).max(200);

const nestedSchema = z.object({
  name: z.string().optional(),
  domains: z
    .array(
      z.object({
        domain: name,
        topics: z.array(z.object({ topic: name, subtopics: z.array(name).min(1) })).min(1),
      }),
    )
    .min(1),
});
const flatSchema = z.array(z.object({ domain: name, topic: name, subtopic: name })).min(1);

export type Catalog = { name: string; scenarios: Scenario[] };

const slug = (s: string) =>
  s
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'x';

export function scenarioId(domain: string, topic: string, subtopic: string): string {
  return `${slug(domain)}/${slug(topic)}/${slug(subtopic)}`;
}

/** The catalog's scenarios, duplicates removed; throws with the reason when the text is no catalog. */
export function parseCatalog(text: string): Catalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`the catalog is not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const triples: { domain: string; topic: string; subtopic: string }[] = [];
  let catalogName = 'catalog';
  const nested = nestedSchema.safeParse(json);
  if (nested.success) {
    catalogName = nested.data.name ?? catalogName;
    for (const d of nested.data.domains)
      for (const t of d.topics)
        for (const subtopic of t.subtopics) triples.push({ domain: d.domain, topic: t.topic, subtopic });
  } else {
    const flat = flatSchema.safeParse(json);
    if (!flat.success)
      throw new Error(
        'a catalog is {"domains": [{"domain", "topics": [{"topic", "subtopics": [...]}]}]} or [{"domain", "topic", "subtopic"}]',
      );
    triples.push(...flat.data);
  }
  const seen = new Set<string>();
  const scenarios: Scenario[] = [];
  for (const t of triples) {
    const id = scenarioId(t.domain, t.topic, t.subtopic);
    if (seen.has(id)) continue;
    seen.add(id);
    scenarios.push({ id, ...t });
  }
  return { name: catalogName, scenarios };
}

/**
 * The order scenarios are taken in: one of each domain in turn (then the next of each), so a small
 * run spans the catalog's domains instead of exhausting the first one.
 */
export function interleaveByDomain(scenarios: readonly Scenario[]): Scenario[] {
  const byDomain = new Map<string, Scenario[]>();
  for (const s of scenarios) {
    const list = byDomain.get(s.domain) ?? [];
    list.push(s);
    byDomain.set(s.domain, list);
  }
  const queues = [...byDomain.values()];
  const out: Scenario[] = [];
  for (let i = 0; out.length < scenarios.length; i++) for (const q of queues) if (q[i]) out.push(q[i]!);
  return out;
}
