// scripts/sandbox-image and what an image records about itself: the manifest baked in, the labels on the image,
// the image named in every result, and a deployment's extra Debian packages as an image of their own.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerForTests } from './docker-available.test-support.js';
import { createDockerSandbox, ensureSandboxImage, IMAGE_LABELS, imageInfo, type Sandbox } from './index.js';

const run = promisify(execFile);
const { docker, dockerUp } = await dockerForTests('Sandbox image tests');

type Manifest = {
  schema: number;
  python: string;
  debian: string;
  requested: string[];
  pythonPackages: { name: string; version: string }[];
  debianPackages: { name: string; version: string; arch: string }[];
};

async function manifestOf(tag: string): Promise<{ text: string; manifest: Manifest }> {
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'cat',
    tag,
    '/opt/evalfleet/image.json',
  ]);
  return { text: stdout, manifest: JSON.parse(stdout) as Manifest };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const importJob = (module: string) => ({
  jobId: `import-${module}`,
  runner: 'mbpp' as const,
  code: `import ${module}\ndef f():\n    return ${module}.__name__\n`,
  tests: `assert f() == "${module}"`,
  timeoutMs: 20_000,
});

describe.skipIf(!dockerUp)('sandbox image', () => {
  let image: string;
  let sandbox: Sandbox;

  beforeAll(async () => {
    image = await ensureSandboxImage({ onProgress: (line) => console.log(line), packages: [] });
    sandbox = await createDockerSandbox({ image, poolSize: 1 });
  }, 20 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('carries Python with pytest and numpy, and a manifest whose digest and Python version label the image', async () => {
    const { text, manifest } = await manifestOf(image);
    expect(manifest.schema).toBe(1);
    expect(manifest.python).toMatch(/^3\.11\./);
    expect(manifest.requested).toEqual([]);
    expect(manifest.debianPackages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['python3', 'python3-pytest', 'python3-numpy']),
    );
    expect(manifest.pythonPackages.map((p) => p.name)).toEqual(expect.arrayContaining(['numpy', 'pytest']));
    const labels = (await docker.getImage(image).inspect()).Config.Labels ?? {};
    expect(labels[IMAGE_LABELS.manifestSha256]).toBe(sha256(text));
    expect(labels[IMAGE_LABELS.python]).toBe(manifest.python);
    expect(labels[IMAGE_LABELS.packages]).toBe('');
    expect(labels['org.evalfleet.recipe']).toBe(image);
  });

  it('names the image in every result, and a job can import numpy', async () => {
    const result = await sandbox.run(importJob('numpy'));
    expect(result).toMatchObject({ verdict: 'passed' });
    const expected = imageInfo(image, await docker.getImage(image).inspect());
    expect(result.image).toEqual(expected);
    expect(expected).toMatchObject({
      tag: image,
      manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      python: expect.stringMatching(/^3\.11\./),
    });
  });

  it('refuses a package name Debian would not accept', async () => {
    await expect(ensureSandboxImage({ packages: ['python3-six;rm'] })).rejects.toThrow(/not a Debian package name/);
  });

  it("builds a deployment's extra Debian packages into an image of their own", { timeout: 20 * 60_000 }, async () => {
    // Names in any order, repeated, comma- or space-separated: one set, one tag.
    const extra = await ensureSandboxImage({
      onProgress: (line) => console.log(line),
      packages: ['python3-six,python3-six'],
    });
    expect(extra).not.toBe(image);
    expect(await ensureSandboxImage({ packages: [' python3-six '] })).toBe(extra);
    const { text, manifest } = await manifestOf(extra);
    expect(manifest.requested).toEqual(['python3-six']);
    expect(manifest.debianPackages.map((p) => p.name)).toContain('python3-six');
    const labels = (await docker.getImage(extra).inspect()).Config.Labels ?? {};
    expect(labels).toMatchObject({
      [IMAGE_LABELS.manifestSha256]: sha256(text),
      [IMAGE_LABELS.packages]: 'python3-six',
    });

    const withSix = await createDockerSandbox({ image: extra, poolSize: 1 });
    try {
      expect(await withSix.run(importJob('six'))).toMatchObject({
        verdict: 'passed',
        image: { tag: extra, packages: 'python3-six' },
      });
    } finally {
      await withSix.close();
    }
    expect(await sandbox.run(importJob('six'))).toMatchObject({ verdict: 'error', reason: 'import_error' });
  });
});
