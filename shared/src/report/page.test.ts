import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { chartConfig, rendererSource } from './browser/render.js';
import { escapeHtml, inlineScript, jsonForScript } from './escape.js';
import type { ChartSpec, ReportDoc } from './model.js';
import { renderReportPage } from './page.js';

const hostile = '</script><script>window.pwned = 1</script><!-- \u2028 & "quotes"';

describe('escaping', () => {
  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('embeds JSON that cannot end its script element and parses back to the same value', () => {
    const json = jsonForScript({ code: hostile });
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual({ code: hostile });
    expect(jsonForScript(undefined)).toBe('null');
  });

  it('inlines scripts without a closing tag or comment opener, meaning the same', () => {
    const source = 'var a = "</script>"; var b = /<!--/u.test("<!--"); var c = `</SCRIPT>`;';
    const inlined = inlineScript(source);
    expect(inlined).not.toMatch(/<\/script|<!--/i);
    const run = (code: string) => runInNewContext(`${code}; [a, b, c]`) as unknown;
    expect(run(inlined)).toEqual(run(source));
  });
});

describe('renderer source', () => {
  it('is self-contained: its functions run without the module around them', () => {
    // chartConfig is pure: evaluated from the inlined source alone it gives what the module gives.
    const spec: ChartSpec = { kind: 'bar', labels: ['a'], series: [{ name: 's', values: [1] }], max: 100 };
    const fromSource = runInNewContext(
      `${rendererSource().replace(/\nboot\(document[^\n]*$/, '')}\nchartConfig(spec)`,
      { spec },
    ) as unknown;
    expect(JSON.stringify(fromSource)).toBe(JSON.stringify(chartConfig(spec)));
  });
});

describe('renderReportPage', () => {
  it('is one self-contained file: Chart.js, renderer and data inline; hostile text stays data', async () => {
    const doc: ReportDoc = {
      title: `run <b>x</b>`,
      subtitle: 'sub',
      notes: [hostile],
      sections: [{ id: 's', title: hostile, blocks: [{ type: 'text', text: hostile }] }],
      details: {},
    };
    const html = await renderReportPage(doc);
    expect(html).toContain('<title>run &lt;b&gt;x&lt;/b&gt;</title>');
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).not.toMatch(/<(?:script|link)[^>]+(?:src|href)=/);
    expect(html).toContain('Chart.js');
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(JSON.parse(data)).toEqual(doc);
  });
});
