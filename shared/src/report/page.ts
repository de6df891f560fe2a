import { rendererSource } from './browser/render.js';
import { chartLibrarySource } from './chart-lib.js';
import { escapeHtml, inlineScript, jsonForScript } from './escape.js';
import type { ReportDoc } from './model.js';

const style = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5d6678; --line: #d9dde5; --bg: #f6f7f9; --accent: #2f5fa7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 24px 8px; }
header h1 { margin: 0; font-size: 20px; }
header .sub { margin: 2px 0 8px; color: var(--muted); }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; white-space: nowrap; }
main { padding: 8px 24px 48px; }
.section { margin-top: 24px; }
.section h2 { font-size: 17px; margin: 0 0 6px; }
.intro, .note { color: var(--muted); margin: 4px 0 8px; }
.blocks { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
.block { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; margin: 0; min-width: 0; }
.block.wide { grid-column: 1 / -1; }
.block h3, figcaption { font-size: 14px; font-weight: 600; margin: 0 0 8px; }
.canvas-holder { position: relative; }
.scroll { overflow: auto; max-height: 520px; }
.scroll.tall { max-height: 720px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: #fff; z-index: 1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.matrix td.cell { text-align: center; min-width: 56px; padding: 0; }
.matrix .row-label { font-weight: normal; white-space: nowrap; }
.sub { display: block; color: var(--muted); font-size: 11px; }
.tone-good { color: #19703a; } .tone-bad { color: #b3261e; } .tone-warn { color: #94640a; } .tone-muted { color: var(--muted); }
button.open { background: none; border: 0; padding: 0; color: var(--accent); cursor: pointer; font: inherit; text-align: left; text-decoration: underline dotted; }
button.cell-button { width: 100%; padding: 4px 6px; color: var(--fg); text-decoration: none; text-align: center; }
.mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
input.filter { margin: 0 0 8px; padding: 4px 8px; width: 280px; border: 1px solid var(--line); border-radius: 4px; }
dialog { width: min(1000px, 94vw); max-height: 90vh; border: 1px solid var(--line); border-radius: 8px; padding: 0 16px 16px; }
dialog::backdrop { background: rgba(20, 24, 32, 0.35); }
.dialog-head { display: flex; justify-content: space-between; align-items: center; position: sticky; top: 0; background: #fff; padding: 12px 0 6px; }
.dialog-head h3 { margin: 0; font-size: 15px; }
.field h4 { margin: 12px 0 4px; font-size: 13px; }
.field pre { background: #f3f4f7; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word; margin: 0; }
.field p.text { white-space: pre-wrap; margin: 0; }
.links { margin: 0; padding-left: 18px; columns: 3 220px; }
`;

/**
 * The whole page: one self-contained HTML file (styles, Chart.js, the renderer and the data inline),
 * so it opens offline and from file://. Without JavaScript it still shows the title and a note.
 */
export async function renderReportPage(doc: ReportDoc): Promise<string> {
  const chart = await chartLibrarySource();
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(doc.title)}</h1>`,
    `<p class="sub">${escapeHtml(doc.subtitle)}</p>`,
    '<nav id="toc"></nav>',
    '</header>',
    '<main id="report"><noscript>The charts and tables of this report are drawn by the scripts in this file; enable JavaScript to see them.</noscript></main>',
    `<script type="application/json" id="report-data">${jsonForScript(doc)}</script>`,
    `<script>${inlineScript(chart)}</script>`,
    `<script>${inlineScript(rendererSource())}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
