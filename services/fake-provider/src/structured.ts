// Answers to structured requests (`response_format`): JSON that follows the request's schema,
// the same for the same prompt, or — as real models sometimes do — broken JSON or JSON that
// misses the schema, so callers' validation and retries can be tested.
import type { Behaviour } from './behaviour.js';
import { draw } from './draw.js';
import { schemaAnswer } from './schema-answer.js';

/** What the request asked for: a JSON schema, or any JSON object. */
export type ResponseFormatRequest = { type: 'json_schema'; schema: Record<string, unknown> } | { type: 'json_object' };

type Message = { role: string; content: string };

/** `response_format` of a chat request, when it asks for JSON. */
export function parseResponseFormat(value: unknown): ResponseFormatRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type: unknown = Reflect.get(value, 'type');
  if (type === 'json_object') return { type };
  if (type !== 'json_schema') return undefined;
  const spec: unknown = Reflect.get(value, 'json_schema');
  const schema: unknown = typeof spec === 'object' && spec !== null ? Reflect.get(spec, 'schema') : undefined;
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema)
    ? { type, schema: schema as Record<string, unknown> }
    : { type: 'json_object' };
}

const objectSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

/** JSON cut off mid-object after a sentence of prose: not parseable however lenient the reader. */
function brokenJson(valid: string): string {
  return `Sure! Here is the answer:\n${valid.slice(0, Math.max(1, Math.floor(valid.length / 2)))}`;
}

/** Valid JSON that the schema rejects: required fields missing, or a value of the wrong type. */
function offSchema(schema: Record<string, unknown>): string {
  const required = schema['required'];
  if (Array.isArray(required) && required.length > 0) return '{}';
  return schema['type'] === 'object' ? '[]' : '{"unexpected": true}';
}

/**
 * The answer text. Valid answers depend only on the conversation's opening (system and first user
 * message: the record's prompt), so a retry that ends valid answers what a first try would have;
 * broken answers are drawn per whole conversation, so a retry gets a fresh draw.
 */
export function structuredAnswer(
  behaviour: Behaviour,
  request: { model: string; messages: readonly Message[]; format: ResponseFormatRequest },
  seed: string | number | undefined,
): string {
  const schema = request.format.type === 'json_schema' ? request.format.schema : objectSchema;
  const firstAssistant = request.messages.findIndex((m) => m.role === 'assistant');
  const opening = firstAssistant === -1 ? request.messages : request.messages.slice(0, firstAssistant);
  const promptKey = JSON.stringify(opening.map((m) => [m.role, m.content]));
  const valid = JSON.stringify(schemaAnswer(schema, (place) => draw(seed, 'schema', request.model, promptKey, place)));
  if (behaviour.form === 'prose') return brokenJson(valid);
  const tries = request.messages.filter((m) => m.role === 'assistant').length;
  if (tries < behaviour.invalidJsonFirst) return brokenJson(valid);
  if (tries < behaviour.offSchemaFirst) return offSchema(schema);
  const conversation = JSON.stringify(request.messages.map((m) => [m.role, m.content]));
  const fraction = behaviour.invalidJsonFraction ?? behaviour.proseFraction;
  if (fraction > 0 && draw(seed, 'invalid-json', request.model, conversation) < fraction) return brokenJson(valid);
  return valid;
}
