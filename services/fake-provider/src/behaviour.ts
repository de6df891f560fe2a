/** What a fake model answers, and how its transport misbehaves. */
export interface Behaviour {
  /** Fraction of tasks answered with the reference solution; the rest get plausible wrong code. */
  rightFraction: number;
  /** Fraction of answers replaced by prose with no code. */
  proseFraction: number;
  /** The kind of body every answer has, overriding the fractions. */
  form: 'code' | 'prose' | 'malformed' | 'syntax-error';
  slowMs: number;
  /** Fraction of requests answered 429 / 500 (drawn per request and per retry of it). */
  flaky429: number;
  /** The first N tries of each request (by body) are answered 429, whatever the draw (exact 429 tests). */
  first429: number;
  flaky500: number;
  /** Never answer; the client has to give up. */
  timeout: boolean;
  /** Fraction of requests never answered (drawn per request and per retry of it, like flaky-500). */
  flakyTimeout: number;
  /**
   * Structured requests (`response_format: json_schema`): fraction answered with broken JSON, drawn
   * per conversation; unset, the prose fraction stands in (a model that drifts into prose drifts
   * out of JSON as often).
   */
  invalidJsonFraction: number | undefined;
  /** Structured requests: the first N tries of a conversation are broken JSON (exact retry tests). */
  invalidJsonFirst: number;
  /** Structured requests: the first N tries are JSON that breaks the schema (e.g. a required field missing). */
  offSchemaFirst: number;
  /**
   * Repair requests (a bug the provider knows): `first` answers the fix at once; `after-feedback` only
   * once the conversation holds a "New error:"; `never` echoes the buggy code; `breaks` answers the
   * fix plus a broken version of another function of the module (other tests regress).
   */
  repair: 'first' | 'after-feedback' | 'never' | 'breaks';
}

export const defaultBehaviour: Behaviour = {
  rightFraction: 1,
  proseFraction: 0,
  form: 'code',
  slowMs: 0,
  flaky429: 0,
  first429: 0,
  flaky500: 0,
  timeout: false,
  flakyTimeout: 0,
  invalidJsonFraction: undefined,
  invalidJsonFirst: 0,
  offSchemaFirst: 0,
  repair: 'first',
};

function fraction(part: string, arg: string | undefined): number {
  const value = Number(arg);
  if (arg === undefined || arg.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`"${part}" needs a fraction between 0 and 1`);
  }
  return value;
}

function count(part: string, arg: string | undefined): number {
  const value = Number(arg);
  if (arg === undefined || arg.trim() === '' || !Number.isInteger(value) || value < 0) {
    throw new Error(`"${part}" needs a whole number`);
  }
  return value;
}

function milliseconds(part: string, arg: string | undefined): number {
  const value = Number(arg);
  if (arg === undefined || arg.trim() === '' || !Number.isInteger(value) || value < 0) {
    throw new Error(`"${part}" needs a whole number of milliseconds`);
  }
  return value;
}

/**
 * Parse a behaviour spec: `fake/` then `+`-joined parts, each `name` or `name:arg`, e.g.
 * `fake/right-fraction:0.6+prose-fraction:0.1+slow:50`. Throws on anything unknown.
 */
export function parseBehaviour(modelId: string): Behaviour {
  if (!modelId.startsWith('fake/')) throw new Error(`model "${modelId}" is not a fake/<behaviour> id`);
  const behaviour: Behaviour = { ...defaultBehaviour };
  for (const part of modelId.slice('fake/'.length).split('+')) {
    const colon = part.indexOf(':');
    const name = colon === -1 ? part : part.slice(0, colon);
    const arg = colon === -1 ? undefined : part.slice(colon + 1);
    switch (name) {
      case 'always-right':
        behaviour.rightFraction = 1;
        break;
      case 'always-wrong':
        behaviour.rightFraction = 0;
        break;
      case 'right-fraction':
        behaviour.rightFraction = fraction(part, arg);
        break;
      case 'prose-fraction':
        behaviour.proseFraction = fraction(part, arg);
        break;
      case 'prose':
      case 'malformed':
      case 'syntax-error':
        behaviour.form = name;
        break;
      case 'slow':
        behaviour.slowMs = milliseconds(part, arg);
        break;
      case 'flaky-429':
        behaviour.flaky429 = fraction(part, arg);
        break;
      case '429-first':
        behaviour.first429 = count(part, arg);
        break;
      case 'flaky-500':
        behaviour.flaky500 = fraction(part, arg);
        break;
      case 'timeout':
        behaviour.timeout = true;
        break;
      case 'flaky-timeout':
        behaviour.flakyTimeout = fraction(part, arg);
        break;
      case 'invalid-json-fraction':
        behaviour.invalidJsonFraction = fraction(part, arg);
        break;
      case 'invalid-json-first':
        behaviour.invalidJsonFirst = count(part, arg);
        break;
      case 'off-schema-first':
        behaviour.offSchemaFirst = count(part, arg);
        break;
      case 'repair':
        if (arg !== 'first' && arg !== 'after-feedback' && arg !== 'never' && arg !== 'breaks')
          throw new Error(`"${part}" needs first, after-feedback, never or breaks`);
        behaviour.repair = arg;
        break;
      default:
        throw new Error(`unknown fake behaviour "${part}" in "${modelId}"`);
    }
  }
  return behaviour;
}
