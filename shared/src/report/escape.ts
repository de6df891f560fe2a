// Everything that puts text into the page goes through here: the page embeds model output,
// test output and prompts, any of which may hold `</script>` or markup.

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => htmlEntities[ch] ?? ch);
}

/**
 * JSON for a `<script type="application/json">` element: `<`, `>` and `&` are written as
 * `\u003c`-style escapes, so no `</script>` or `<!--` can end or change the element, and the
 * line separators U+2028/U+2029 as escapes too. `JSON.parse` of the element's text gives `value` back.
 */
export function jsonForScript(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * JavaScript source for an inline `<script>`: `</script` and `<!--` (which would end the element
 * or switch the parser into its escaped state) are written as `<\/script` and `<\x21--`. Both only
 * occur inside string, regex or comment text in well-formed code, where the escapes mean the same
 * characters (`\x21` also under a regex's `u` flag, which rejects `\!`).
 */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\x21--');
}
