// Headless Chromium (Debian's `chromium`, driven by playwright-core; no downloaded browsers) for
// tests that render pages, and a directory under .cache/ where they keep what they saw.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type Browser = { context: BrowserContext; close(): Promise<void> };

/** Chromium with a fresh profile; fails with the command to run when Chromium is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is not installed at ${chromiumPath}; the report tests render pages in it. ` +
        'Install it with: apt-get update && apt-get install -y chromium (scripts/test does in CI: ef_chromium)',
    );
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'evalfleet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport: { width: 1400, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What a page logged as errors (console errors and uncaught exceptions) and every URL it asked for. */
export function watchPage(page: Page): { errors: string[]; requests: string[] } {
  const seen = { errors: [] as string[], requests: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.errors.push(`page error: ${e.message}`));
  page.on('request', (r) => seen.requests.push(r.url()));
  return seen;
}

/** A directory kept after the test (git-ignored), for screenshots and pages to look at. */
export async function keptDir(name: string): Promise<string> {
  const dir = path.resolve('.cache', 'test-artifacts', name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Per canvas: its label and how many pixels are painted (a chart that drew has many). */
export const paintedCanvases = `(() => [...document.querySelectorAll('canvas')].map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
  return { label: c.getAttribute('aria-label'), width: c.width, height: c.height, painted };
}))()`;
