import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interleaveByDomain, parseCatalog, scenarioId } from './catalog.js';
import { bundledCatalog } from './cli.js';

describe('scenario catalog', () => {
  it('the bundled catalog: at least 100 distinct STEM combinations over several domains', () => {
    const c = parseCatalog(readFileSync(bundledCatalog, 'utf8'));
    expect(c.name).toBe('evalfleet-stem');
    expect(c.scenarios.length).toBeGreaterThanOrEqual(100);
    expect(new Set(c.scenarios.map((s) => s.id)).size).toBe(c.scenarios.length);
    const domains = new Set(c.scenarios.map((s) => s.domain));
    expect(domains.size).toBeGreaterThanOrEqual(8);
    expect(domains).toContain('Physics');
  });

  it('reads a flat list too, drops repeats, and names a scenario by its three names', () => {
    const c = parseCatalog(
      JSON.stringify([
        { domain: 'Physics', topic: 'Optics', subtopic: "Snell's law" },
        { domain: 'physics', topic: 'optics', subtopic: 'Snell’s  law' },
        { domain: 'Chemistry', topic: 'Kinetics', subtopic: 'Half-lives' },
      ]),
    );
    expect(c.scenarios.map((s) => s.id)).toEqual(['physics/optics/snell-s-law', 'chemistry/kinetics/half-lives']);
    expect(c.scenarios[0]).toMatchObject({ domain: 'Physics', subtopic: "Snell's law" });
    expect(scenarioId('Earth & Space', 'Orbits', 'Hohmann transfer')).toBe('earth-space/orbits/hohmann-transfer');
  });

  it('says what a catalog looks like when the file is not one', () => {
    expect(() => parseCatalog('{"domains": []}')).toThrow(/a catalog is/);
    expect(() => parseCatalog('not json')).toThrow(/not JSON/);
  });

  it('takes one scenario of each domain in turn', () => {
    const s = (domain: string, n: number) => ({ id: `${domain}${n}`, domain, topic: 't', subtopic: `${n}` });
    const order = interleaveByDomain([s('a', 1), s('a', 2), s('a', 3), s('b', 1), s('c', 1), s('c', 2)]);
    expect(order.map((x) => x.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });
});
