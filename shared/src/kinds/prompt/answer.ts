import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** An answer read and checked against its stage's schema: its value, or what is wrong with it. */
export type CheckedAnswer = { ok: true; value: unknown } | { ok: false; problem: string; errors: string[] };

export type AnswerValidator = {
  check(text: string): CheckedAnswer;
};

// One instance per process: ajv caches compiled schemas by object identity, and validators are
// kept per pipeline by the caller. `strict: false` accepts the annotations structured-output
// schemas carry (`format` is not enforced: ajv-formats is not loaded); errors are collected in
// full so a retry can name every problem at once.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });

/** Compiles a stage's answer schema; throws with ajv's message when the schema itself is invalid. */
export function compileAnswerSchema(schema: Record<string, unknown>): AnswerValidator {
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new Error(`invalid JSON Schema: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { check: (text) => checkAnswer(text, validate) };
}

/** JSON as the whole answer or inside one fenced block (```json ... ```), as models often wrap it. */
export function parseJsonAnswer(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const candidates = [text.trim()];
  const fenced = /```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/i.exec(text);
  if (fenced?.[1] !== undefined) candidates.push(fenced[1].trim());
  let message = 'empty answer';
  for (const candidate of candidates) {
    if (candidate === '') continue;
    try {
      return { ok: true, value: JSON.parse(candidate) as unknown };
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: false, message };
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'the answer' : `answer${e.instancePath}`;
  const detail =
    e.keyword === 'enum' && Array.isArray(e.params['allowedValues'])
      ? `: ${JSON.stringify(e.params['allowedValues'])}`
      : e.keyword === 'additionalProperties'
        ? `: ${String(e.params['additionalProperty'])}`
        : '';
  return `${where} ${e.message ?? 'is invalid'}${detail}`;
}

function checkAnswer(text: string, validate: ValidateFunction): CheckedAnswer {
  const parsed = parseJsonAnswer(text);
  if (!parsed.ok) {
    const problem = `the answer is not valid JSON (${parsed.message})`;
    return { ok: false, problem, errors: [problem] };
  }
  if (validate(parsed.value)) return { ok: true, value: parsed.value };
  const errors = (validate.errors ?? []).map(describeError);
  return { ok: false, problem: 'the answer does not match the JSON schema', errors };
}

/** The user message a retry appends after the invalid answer: every problem, then what to do. */
export function retryPrompt(checked: Extract<CheckedAnswer, { ok: false }>): string {
  const lines = checked.errors.slice(0, 20).map((e) => `- ${e}`);
  return [
    `Your previous answer was rejected: ${checked.problem}.`,
    ...(checked.errors.length > 1 || checked.errors[0] !== checked.problem ? lines : []),
    'Answer again with only a JSON value that matches the required schema, and nothing else.',
  ].join('\n');
}
