import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../errors/index.js';
import { costUsd, getModel, keyStatus, loadRegistry, withProviderBaseUrl } from './registry.js';

const rootRegistry = readFileSync(new URL('../../../models.yaml', import.meta.url), 'utf8');

const minimal = `
providers:
  fake: { base_url: http://127.0.0.1:8089/v1/, api_key_env: null }
  paid: { base_url: https://api.example.test/v1, api_key_env: PAID_KEY }
models:
  fake-good: { provider: fake, model: fake/always-right, rpm: 600, tpm: 200000, input_per_mtok: 0.5, output_per_mtok: 1.5, max_output_tokens: 1024 }
  paid-big: { provider: paid, model: big-1, input_per_mtok: 3, output_per_mtok: 15 }
`;

function registryErrorOf(text: string): PermanentError {
  try {
    loadRegistry(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PermanentError);
    return err as PermanentError;
  }
  throw new Error('expected loadRegistry to throw');
}

describe('loadRegistry', () => {
  it('loads the root models.yaml with two differently behaving fake models', () => {
    const registry = loadRegistry(rootRegistry);
    expect(registry.providers.fake?.apiKeyEnv).toBeNull();
    expect(getModel(registry, 'fake-good').model).toBe('fake/always-right');
    expect(getModel(registry, 'fake-mixed').model).toMatch(/^fake\/right-fraction:0\.6/);
    expect(registry.providers.openrouter?.apiKeyEnv).toBe('OPENROUTER_API_KEY');
    expect(registry.providers.ollama?.baseUrl).toBe('http://localhost:11434/v1');
    expect(getModel(registry, 'llama3.1-8b-ollama').limitScope).toBe('provider');
  });

  it('converts fields and fills defaults', () => {
    const registry = loadRegistry(minimal);
    expect(registry.providers.fake?.baseUrl).toBe('http://127.0.0.1:8089/v1');
    expect(getModel(registry, 'fake-good')).toEqual({
      name: 'fake-good',
      provider: 'fake',
      model: 'fake/always-right',
      rpm: 600,
      tpm: 200000,
      inputPerMtok: 0.5,
      outputPerMtok: 1.5,
      maxOutputTokens: 1024,
      limitScope: 'model',
    });
    expect(getModel(registry, 'paid-big')).toMatchObject({
      rpm: undefined,
      maxOutputTokens: 1024,
      limitScope: 'model',
    });
  });

  it('names the model whose provider is missing', () => {
    const err = registryErrorOf(`
providers: { fake: { base_url: http://127.0.0.1:1/v1 } }
models: { lost: { provider: nowhere, model: x } }
`);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('model "lost": provider "nowhere" is not defined');
  });

  it('names the model and field of a bad value', () => {
    const err = registryErrorOf(minimal.replace('rpm: 600', 'rpm: -3'));
    expect(err.message).toMatch(/model "fake-good": rpm: /);
  });

  it('names the provider of a bad base URL and rejects unknown fields', () => {
    const bad = registryErrorOf(minimal.replace('https://api.example.test/v1', 'ftp://api.example.test'));
    expect(bad.message).toContain('provider "paid": base_url: must be an http(s) URL');
    const typo = registryErrorOf(minimal.replace('input_per_mtok: 3', 'input_per_mtk: 3'));
    expect(typo.message).toContain('model "paid-big"');
    expect(typo.message).toContain('input_per_mtk');
  });

  it('reports YAML syntax errors and missing sections', () => {
    expect(registryErrorOf('providers: [unclosed').message).toContain('not valid YAML');
    expect(registryErrorOf('providers: {}').message).toContain('models');
  });

  it('getModel lists the known names for an unknown one', () => {
    const registry = loadRegistry(minimal);
    expect(() => getModel(registry, 'gpt-9')).toThrow(
      /model "gpt-9" is not in the registry \(known: fake-good, paid-big\)/,
    );
  });
});

describe('keyStatus', () => {
  it('marks keyless providers and set keys as present', () => {
    const registry = loadRegistry(minimal);
    expect(keyStatus(registry, {})).toEqual([
      { name: 'fake-good', provider: 'fake', hasKey: true, keyEnv: null },
      { name: 'paid-big', provider: 'paid', hasKey: false, keyEnv: 'PAID_KEY' },
    ]);
    expect(keyStatus(registry, { PAID_KEY: '  ' }).find((s) => s.name === 'paid-big')?.hasKey).toBe(false);
    expect(keyStatus(registry, { PAID_KEY: 'sk-test' }).find((s) => s.name === 'paid-big')?.hasKey).toBe(true);
  });

  it('covers every model of the root registry', () => {
    const registry = loadRegistry(rootRegistry);
    const status = keyStatus(registry, { OPENROUTER_API_KEY: 'sk-or-test' });
    expect(status).toHaveLength(Object.keys(registry.models).length);
    expect(status.find((s) => s.name === 'gpt-4o-mini')?.hasKey).toBe(true);
    expect(status.find((s) => s.name === 'gpt-4o-litellm')).toMatchObject({ hasKey: false, keyEnv: 'LITELLM_API_KEY' });
  });
});

describe('costUsd', () => {
  it('prices prompt and completion tokens per million', () => {
    const model = getModel(loadRegistry(minimal), 'fake-good');
    expect(costUsd(model, { promptTokens: 1000, completionTokens: 500 })).toBe(0.00125);
    expect(costUsd(model, { promptTokens: 0, completionTokens: 0 })).toBe(0);
    expect(
      costUsd({ inputPerMtok: 3, outputPerMtok: 15 }, { promptTokens: 1_000_000, completionTokens: 2_000_000 }),
    ).toBe(33);
  });
});

describe('withProviderBaseUrl', () => {
  it('returns a copy pointing the provider elsewhere', () => {
    const registry = loadRegistry(minimal);
    const moved = withProviderBaseUrl(registry, 'fake', 'http://127.0.0.1:45678/v1/');
    expect(moved.providers.fake?.baseUrl).toBe('http://127.0.0.1:45678/v1');
    expect(registry.providers.fake?.baseUrl).toBe('http://127.0.0.1:8089/v1');
    expect(moved.models).toBe(registry.models);
  });

  it('rejects unknown providers and non-http URLs', () => {
    const registry = loadRegistry(minimal);
    expect(() => withProviderBaseUrl(registry, 'nope', 'http://127.0.0.1:1/v1')).toThrow(/provider "nope"/);
    expect(() => withProviderBaseUrl(registry, 'fake', 'not a url')).toThrow(/must be an http\(s\) URL/);
  });
});
