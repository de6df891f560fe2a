// `when` conditions: a small expression language over the record and earlier answers, parsed
// once (syntax errors surface at submit) and evaluated without `eval` or any host access.
//
//   expr  := or ;  or := and (('||'|'or') and)* ;  and := not (('&&'|'and') not)*
//   not   := ('!'|'not') not | cmp ;  cmp := value (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not in') value)?
//   value := number | 'string' | "string" | true | false | null | path | '(' expr ')' | '[' expr, … ']'
//
// A path (`stages.classify.is_bug`, `severity`, `labels.0`) that is not there is null, so a
// condition on a stage that gave no answer is simply false. Truthiness: false, null, 0, '' and
// [] are false.
import { lookup } from './template.js';

type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

export type Condition =
  | { t: 'lit'; v: string | number | boolean | null }
  | { t: 'path'; path: string }
  | { t: 'list'; items: Condition[] }
  | { t: 'not'; x: Condition }
  | { t: 'and' | 'or'; a: Condition; b: Condition }
  | { t: 'cmp'; op: CmpOp; a: Condition; b: Condition };

type Token =
  | { k: 'num'; v: number; at: number }
  | { k: 'str'; v: string; at: number }
  | { k: 'word'; v: string; at: number }
  | { k: 'op'; v: string; at: number };

const operators = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', ','];
const escapes: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(src.slice(i));
    if (number) {
      out.push({ k: 'num', v: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const next = src[j + 1] ?? '';
          text += escapes[next] ?? next;
          j += 2;
        } else {
          text += src[j];
          j += 1;
        }
      }
      if (j >= src.length) throw new Error(`unterminated string at ${i}`);
      out.push({ k: 'str', v: text, at: i });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z_][\w-]*(?:\.[\w-]+)*/.exec(src.slice(i));
    if (word) {
      out.push({ k: 'word', v: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const op = operators.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(c === '=' ? `use == to compare (at ${i})` : `unexpected '${c}' at ${i}`);
    out.push({ k: 'op', v: op, at: i });
    i += op.length;
  }
  return out;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  private readonly src: string;

  constructor(src: string) {
    this.src = src;
    this.tokens = tokenize(src);
  }

  parse(): Condition {
    if (this.tokens.length === 0) throw new Error('empty condition');
    const node = this.or();
    const extra = this.peek();
    if (extra) throw new Error(`unexpected '${this.text(extra)}' at ${extra.at}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private text(t: Token): string {
    return t.k === 'str' ? JSON.stringify(t.v) : String(t.v);
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && ((t.k === 'op' && t.v === v) || (t.k === 'word' && t.v === v));
  }

  private take(v: string): boolean {
    if (!this.isOp(v)) return false;
    this.pos += 1;
    return true;
  }

  private or(): Condition {
    let node = this.and();
    while (this.take('||') || this.take('or')) node = { t: 'or', a: node, b: this.and() };
    return node;
  }

  private and(): Condition {
    let node = this.not();
    while (this.take('&&') || this.take('and')) node = { t: 'and', a: node, b: this.not() };
    return node;
  }

  private not(): Condition {
    if (this.take('!') || this.take('not')) return { t: 'not', x: this.not() };
    return this.cmp();
  }

  private cmp(): Condition {
    const a = this.value();
    for (const op of ['==', '!=', '<=', '>=', '<', '>', 'in'] as const) {
      if (this.take(op)) return { t: 'cmp', op, a, b: this.value() };
    }
    const t = this.peek();
    const next = this.tokens[this.pos + 1];
    if (t?.k === 'word' && t.v === 'not' && next?.k === 'word' && next.v === 'in') {
      this.pos += 2;
      return { t: 'cmp', op: 'not in', a, b: this.value() };
    }
    return a;
  }

  private value(): Condition {
    const t = this.peek();
    if (!t) throw new Error(`condition ends too early: ${this.src}`);
    this.pos += 1;
    if (t.k === 'num' || t.k === 'str') return { t: 'lit', v: t.v };
    if (t.k === 'word') {
      if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
      if (t.v === 'null') return { t: 'lit', v: null };
      if (['and', 'or', 'not', 'in'].includes(t.v)) throw new Error(`unexpected '${t.v}' at ${t.at}`);
      return { t: 'path', path: t.v };
    }
    if (t.v === '(') {
      const node = this.or();
      if (!this.take(')')) throw new Error(`missing ')' for the '(' at ${t.at}`);
      return node;
    }
    if (t.v === '[') {
      const items: Condition[] = [];
      if (!this.take(']')) {
        do items.push(this.or());
        while (this.take(','));
        if (!this.take(']')) throw new Error(`missing ']' for the '[' at ${t.at}`);
      }
      return { t: 'list', items };
    }
    throw new Error(`unexpected '${t.v}' at ${t.at}`);
  }
}

/** Parses a `when` condition; throws with the position of the first problem. */
export function parseCondition(src: string): Condition {
  return new Parser(src).parse();
}

/** Every path a condition reads. */
export function conditionPaths(node: Condition): string[] {
  switch (node.t) {
    case 'lit':
      return [];
    case 'path':
      return [node.path];
    case 'list':
      return node.items.flatMap(conditionPaths);
    case 'not':
      return conditionPaths(node.x);
    default:
      return [...conditionPaths(node.a), ...conditionPaths(node.b)];
  }
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function equal(a: unknown, b: unknown): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return x === y;
  return JSON.stringify(x) === JSON.stringify(y);
}

function compare(op: CmpOp, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case 'in':
    case 'not in': {
      const inside = Array.isArray(b)
        ? b.some((item) => equal(a, item))
        : typeof b === 'string' && typeof a === 'string' && b.includes(a);
      return op === 'in' ? inside : !inside;
    }
    default: {
      // Ordering only between two numbers or two strings; anything else (a missing field) is false.
      if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')))
        return false;
      if (op === '<') return a < b;
      if (op === '<=') return a <= b;
      if (op === '>') return a > b;
      return a >= b;
    }
  }
}

function value(node: Condition, context: unknown): unknown {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'path': {
      const hit = lookup(context, node.path);
      return hit.found ? hit.value : null;
    }
    case 'list':
      return node.items.map((item) => value(item, context));
    case 'not':
      return !truthy(value(node.x, context));
    case 'and':
      return truthy(value(node.a, context)) && truthy(value(node.b, context));
    case 'or':
      return truthy(value(node.a, context)) || truthy(value(node.b, context));
    case 'cmp':
      return compare(node.op, value(node.a, context), value(node.b, context));
  }
}

/** Whether the condition holds for `context` (the record plus `stages`). */
export function evaluateCondition(node: Condition, context: unknown): boolean {
  return truthy(value(node, context));
}
