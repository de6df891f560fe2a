/** A text field of the page, cut to a size, with a note saying so when it was. */
export type ClippedText = { text: string; note?: string };

/**
 * `text` cut to `max` characters: the head for code and prompts, the tail for test output and
 * tracebacks (where the error is). Pages of big runs stay bounded this way.
 */
export function clip(text: string, max: number, keep: 'head' | 'tail' = 'head'): ClippedText {
  if (text.length <= max) return { text };
  const kept = keep === 'head' ? text.slice(0, max) : text.slice(text.length - max);
  const where = keep === 'head' ? 'first' : 'last';
  return {
    text: keep === 'head' ? `${kept}\n…` : `…\n${kept}`,
    note: `${where} ${max.toLocaleString('en-US')} of ${text.length.toLocaleString('en-US')} characters shown`,
  };
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
