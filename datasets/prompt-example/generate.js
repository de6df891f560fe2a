// Writes records.jsonl: 200 synthetic issue reports against fictional LLM inference engines,
// about two thirds of them bugs (each with a root-cause category) and the rest feature requests,
// usage questions and documentation reports. Deterministic: a seeded generator, no clock, no
// network, so running it again rewrites the same bytes.
//
//   node datasets/prompt-example/generate.js            # rewrite records.jsonl beside this file
//   node datasets/prompt-example/generate.js --stdout   # print instead (the tests compare the two)
import { writeFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const COUNT = 200;
const BUG_SHARE = 0.65;

// mulberry32: a tiny seeded PRNG, good enough to vary synthetic text reproducibly.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20240611);
const pick = (items) => items[Math.floor(random() * items.length)];
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const projects = ['tensorforge', 'quillserve', 'lumen-infer', 'kvstream', 'bytegrove'];
const components = [
  'scheduler',
  'tokenizer',
  'KV cache',
  'HTTP server',
  'quantization kernels',
  'batching',
  'CLI',
  'model loader',
];
const gpus = ['A100 80GB', 'H100', 'RTX 4090', 'L4', 'MI250', 'CPU only'];
const oses = ['Ubuntu 22.04', 'Debian 12', 'Rocky Linux 9', 'macOS 14', 'WSL2'];
const models = ['llama-7b', 'mistral-7b', 'qwen-14b', 'phi-3-mini', 'gemma-2b'];

const env = () =>
  `Environment: ${pick(['container', 'bare metal'])}, ${pick(oses)}, ${pick(gpus)}, Python 3.${int(9, 12)}.`;

// Each root cause: titles and symptoms a reporter would write, with the component it shows up in.
const bugs = {
  memory: {
    titles: [
      'OOM after {n} requests with {model}',
      'Memory keeps growing in the {component}',
      'Segfault when freeing blocks in the {component}',
    ],
    symptoms: [
      'After roughly {n} requests the server dies with an out-of-memory error although the batch size is small.',
      'GPU memory climbs by about {k} MB per request and is never released until the process is killed.',
      'The process crashes with a segmentation fault when the {component} evicts entries under load.',
    ],
  },
  concurrency: {
    titles: [
      'Deadlock in the {component} under concurrent requests',
      'Race condition corrupts outputs with {n} parallel clients',
      'Requests hang forever when two streams finish together',
    ],
    symptoms: [
      'The server stops answering after a few minutes of parallel load; a stack dump shows two threads waiting on each other in the {component}.',
      'With {n} concurrent clients some responses contain tokens from another request.',
      'Streaming responses occasionally never send the final chunk when requests complete at the same time.',
    ],
  },
  numerical: {
    titles: [
      'NaN logits with fp16 on {model}',
      'Outputs differ between fp32 and int8 by a wide margin',
      'Softmax overflow in the {component}',
    ],
    symptoms: [
      'Generation produces only NaN logits after the first {n} tokens when running in half precision.',
      'The int8 quantized model gives clearly wrong answers while fp32 is fine; the quantization kernels seem to overflow.',
      'Long prompts make the attention scores overflow, and sampling returns the same token repeatedly.',
    ],
  },
  configuration: {
    titles: [
      'Setting max_batch_size is silently ignored',
      'Environment variable for the cache dir has no effect',
      'Wrong default port when TLS is enabled',
    ],
    symptoms: [
      'Whatever value is passed for max_batch_size, the {component} always uses 8.',
      'The documented cache directory variable is ignored and files land in the home directory.',
      'With TLS enabled the server binds to port {n} instead of the configured one.',
    ],
  },
  compatibility: {
    titles: [
      'Fails to load {model} checkpoints saved by the new converter',
      'Crash on import with the latest CUDA driver',
      'Tokenizer breaks with transformers {v}',
    ],
    symptoms: [
      'Loading a checkpoint produced by the latest converter fails with an unknown tensor name error.',
      'Importing the package aborts with an undefined symbol after upgrading the driver.',
      'The tokenizer raises a TypeError since the upstream library changed a function signature in version {v}.',
    ],
  },
  logic: {
    titles: [
      'Stop sequences are ignored when they span two tokens',
      'Off-by-one in max_tokens: one token too many',
      'Temperature 0 still samples randomly in the {component}',
    ],
    symptoms: [
      'A stop sequence split across two tokens is never detected and generation continues.',
      'Requests with max_tokens={n} return {n1} tokens.',
      'With temperature 0 two identical requests return different completions.',
    ],
  },
  performance: {
    titles: [
      'Throughput dropped {k}% after upgrading',
      'First token latency of several seconds in the {component}',
      'Batching makes requests slower, not faster',
    ],
    symptoms: [
      'After the last release tokens per second fell by about {k}% on the same hardware.',
      'The first token takes {n} seconds although the model is already loaded.',
      'Enabling continuous batching increases the average latency instead of reducing it.',
    ],
  },
};

const others = {
  feature_request: {
    titles: [
      'Support for {model} in the {component}',
      'Add a flag to limit GPU memory per model',
      'Feature request: OpenAI-compatible embeddings endpoint',
    ],
    bodies: [
      'It would be great if the {component} supported {model}; we would like to serve it next to our current models.',
      'Please add an option so that operators can cap the memory each loaded model may use.',
      'Our clients expect an embeddings endpoint in the OpenAI format; is this planned?',
    ],
  },
  question: {
    titles: [
      'How do I run two models on one GPU?',
      'What does the --prefill-chunk option do?',
      'Best settings for {model} on a {gpu}?',
    ],
    bodies: [
      'I could not find in the docs whether two models can share one GPU, and how to configure it.',
      'The help text for this option is short; how does it interact with batching?',
      'Which batch size and quantization would you recommend for {model} on a {gpu}?',
    ],
  },
  documentation: {
    titles: [
      'Typo in the quantization guide',
      'README example uses a removed flag',
      'Docs do not mention the required CUDA version',
    ],
    bodies: [
      'The guide says "int4" where the command below uses int8.',
      'The quick start still passes a flag that was removed two releases ago.',
      'The installation page should say which CUDA versions are supported.',
    ],
  },
};

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (_all, name) => String(vars[name]));
}

function record(index) {
  const vars = {
    n: int(2, 64) * 10,
    k: int(5, 60),
    v: `4.${int(30, 45)}.0`,
    model: pick(models),
    component: pick(components),
    gpu: pick(gpus),
  };
  vars.n1 = vars.n + 1;
  const project = pick(projects);
  const id = `ISSUE-${String(index + 1).padStart(4, '0')}`;
  if (random() < BUG_SHARE) {
    const category = pick(Object.keys(bugs));
    const spec = bugs[category];
    // Titles and symptoms are written in pairs, so a report reads as one story.
    const j = int(0, spec.titles.length - 1);
    const title = fill(spec.titles[j], vars);
    const steps = `Steps: start the server with ${vars.model}, send ${vars.n} requests, watch the logs.`;
    const body = [fill(spec.symptoms[j], vars), steps, `Version ${project} 0.${int(3, 9)}.${int(0, 12)}.`, env()].join(
      ' ',
    );
    return { id, project, title, body, expected_is_bug: true, expected_kind: 'bug', expected_root_cause: category };
  }
  const kind = pick(Object.keys(others));
  const spec = others[kind];
  const j = int(0, spec.titles.length - 1);
  const body = [fill(spec.bodies[j], vars), random() < 0.5 ? env() : 'Thanks for the project!'].join(' ');
  return {
    id,
    project,
    title: fill(spec.titles[j], vars),
    body,
    expected_is_bug: false,
    expected_kind: kind,
    expected_root_cause: null,
  };
}

export function generateRecords() {
  return Array.from({ length: COUNT }, (_, i) => JSON.stringify(record(i))).join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generateRecords();
  if (process.argv.includes('--stdout')) process.stdout.write(text);
  else writeFileSync(new URL('./records.jsonl', import.meta.url), text);
}
