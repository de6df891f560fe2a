// The records file: JSONL, one object per line, each with an id. Read the same way by the CLI
// (to fail at submit) and by the producer and the report (which trust nothing they are sent).
import type { PromptPipeline } from './pipeline.js';
import { lookup } from './template.js';

export type PromptRecord = { id: string; line: number; data: Record<string, unknown> };

/** At most this many problems are listed in one error. */
const shownProblems = 10;

function fail(what: string, problems: readonly string[]): never {
  const more = problems.length > shownProblems ? `; … ${problems.length - shownProblems} more` : '';
  throw new Error(`${what}: ${problems.slice(0, shownProblems).join('; ')}${more}`);
}

/** Parses JSONL records keyed by `idField`; throws naming every bad line (blank lines are skipped). */
export function parseRecords(text: string, idField: string): PromptRecord[] {
  const records: PromptRecord[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const body = raw.replace(/\r$/, '').trim();
    if (body === '') return;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      problems.push(`line ${line} is not valid JSON`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`line ${line} is not a JSON object`);
      return;
    }
    const data = value as Record<string, unknown>;
    const id = lookup(data, idField);
    if (!id.found || !(typeof id.value === 'string' || typeof id.value === 'number') || id.value === '') {
      problems.push(`line ${line} has no ${idField} (a string or number; choose another field with --id-field)`);
      return;
    }
    const key = String(id.value);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`line ${line} repeats ${idField} ${key} of line ${first}`);
      return;
    }
    seen.set(key, line);
    records.push({ id: key, line, data });
  });
  if (problems.length > 0) fail('invalid records', problems);
  if (records.length === 0) throw new Error('the records file holds no record');
  return records;
}

/**
 * Every record has every field the pipeline's templates name; throws naming the records that do
 * not (their id, line and the field), so a run never starts on records it cannot render.
 */
export function checkRecordFields(pipeline: PromptPipeline, records: readonly PromptRecord[]): void {
  const problems: string[] = [];
  for (const stage of pipeline.stages) {
    for (const path of stage.recordPaths) {
      const lacking = records.filter((r) => !lookup(r.data, path).found);
      // A field no record has is more likely a typo in the template than a gap in the data.
      if (lacking.length > 1 && lacking.length === records.length)
        problems.push(`no record has ${path}, which stage ${stage.name} uses as {{${path}}}`);
      else
        for (const r of lacking)
          problems.push(
            `record ${r.id} (line ${r.line}) has no ${path}, which stage ${stage.name} uses as {{${path}}}`,
          );
    }
  }
  if (problems.length > 0) fail('records lack template fields', problems);
}

/** The records a run takes: the first `limit` in file order, or all. */
export function selectRecords(records: readonly PromptRecord[], limit: number | undefined): PromptRecord[] {
  return limit === undefined ? [...records] : records.slice(0, limit);
}
