// The page's renderer. These functions run in the browser: `pageScript` inlines their source text,
// so each may use only its parameters, the other functions listed there and JavaScript built-ins —
// never an import or a module-level value. Text always goes in through `textContent`, never as
// markup, so model output and test output cannot inject anything.
import type { Block, Cell, ChartSpec, MatrixCell, ReportDoc, ReportSection } from '../model.js';
import type { ChartConfig, ChartConstructor, DomDialog, DomDocument, DomNode } from './dom.js';

export type Ui = { doc: DomDocument; data: ReportDoc; chart: ChartConstructor | undefined; dialog: DomDialog };

/** Reads the embedded data and draws every section. */
export function boot(doc: DomDocument, chart: ChartConstructor | undefined): void {
  const source = doc.getElementById('report-data');
  const data = JSON.parse(source?.textContent ?? 'null') as ReportDoc;
  const dialog = doc.createElement('dialog');
  dialog.id = 'detail';
  doc.body.appendChild(dialog);
  const ui: Ui = { doc, data, chart, dialog };
  const main = doc.getElementById('report');
  const toc = doc.getElementById('toc');
  if (!main) return;
  main.replaceChildren();
  for (const note of data.notes) main.appendChild(el(ui, 'p', 'note', note));
  for (const section of data.sections) {
    main.appendChild(renderSection(ui, section));
    const link = toc?.appendChild(el(ui, 'a', '', section.title));
    link?.setAttribute('href', `#${section.id}`);
  }
}

export function el(ui: Ui, tag: string, className: string, text?: string): DomNode {
  const node = ui.doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function renderSection(ui: Ui, section: ReportSection): DomNode {
  const node = el(ui, 'section', 'section');
  node.id = section.id;
  node.appendChild(el(ui, 'h2', '', section.title));
  if (section.intro) node.appendChild(el(ui, 'p', 'intro', section.intro));
  const grid = node.appendChild(el(ui, 'div', 'blocks'));
  for (const block of section.blocks) grid.appendChild(renderBlock(ui, block));
  return node;
}

export function renderBlock(ui: Ui, block: Block): DomNode {
  switch (block.type) {
    case 'text':
      return el(ui, 'p', 'text', block.text);
    case 'chart':
      return renderChart(ui, block.title, block.chart, block.height ?? 280, block.wide === true);
    case 'table':
      return renderTable(ui, block);
    case 'matrix':
      return renderMatrix(ui, block);
    case 'links': {
      const box = el(ui, 'div', 'block wide');
      if (block.title) box.appendChild(el(ui, 'h3', '', block.title));
      const list = box.appendChild(el(ui, 'ul', 'links'));
      for (const item of block.items) {
        const a = list.appendChild(el(ui, 'li', '')).appendChild(el(ui, 'a', '', item.label));
        a.setAttribute('href', item.href);
      }
      return box;
    }
  }
}

export function renderChart(ui: Ui, title: string, spec: ChartSpec, height: number, wide: boolean): DomNode {
  const box = el(ui, 'figure', wide ? 'block chart wide' : 'block chart');
  box.appendChild(el(ui, 'figcaption', '', title));
  const holder = box.appendChild(el(ui, 'div', 'canvas-holder'));
  holder.style.setProperty('height', `${height}px`);
  if (!ui.chart) {
    holder.appendChild(el(ui, 'p', 'note', 'Charts need the inlined Chart.js, which did not load.'));
    return box;
  }
  const canvas = holder.appendChild(el(ui, 'canvas', ''));
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', title);
  new ui.chart(canvas, chartConfig(spec));
  return box;
}

/** A Chart.js configuration for a spec: no animation (the page is static), legend below. */
export function chartConfig(spec: ChartSpec): ChartConfig {
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];
  const color = (i: number) => colors[i % colors.length] ?? '#888888';
  const axis = (title: string | undefined, extra: Record<string, unknown>) => ({
    title: { display: title !== undefined, text: title ?? '' },
    ...extra,
  });
  const plugins = { legend: { position: 'bottom' } };
  if (spec.kind === 'scatter') {
    return {
      type: 'scatter',
      data: {
        datasets: spec.series.map((s, i) => ({
          label: s.name,
          data: s.points,
          backgroundColor: color(i),
          borderColor: color(i),
          pointRadius: 6,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins,
        scales: {
          x: axis(spec.xTitle, { beginAtZero: true }),
          y: axis(spec.yTitle, { beginAtZero: true, ...(spec.max !== undefined ? { max: spec.max } : {}) }),
        },
      },
    };
  }
  const value = axis(spec.yTitle, {
    beginAtZero: true,
    stacked: spec.stacked === true,
    ...(spec.max !== undefined ? { max: spec.max } : {}),
  });
  const category = axis(spec.xTitle, { stacked: spec.stacked === true });
  return {
    type: 'bar',
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s, i) => ({
        label: s.name,
        data: s.values,
        backgroundColor: s.color ?? color(i),
        borderColor: s.color ?? color(i),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins,
      scales: spec.horizontal ? { x: value, y: category } : { x: category, y: value },
    },
  };
}

export function renderTable(ui: Ui, block: Extract<Block, { type: 'table' }>): DomNode {
  const box = el(ui, 'div', 'block wide');
  if (block.title) box.appendChild(el(ui, 'h3', '', block.title));
  const filterSlot = box.appendChild(el(ui, 'div', ''));
  const scroll = box.appendChild(el(ui, 'div', 'scroll'));
  const table = scroll.appendChild(el(ui, 'table', ''));
  const head = table.appendChild(el(ui, 'thead', '')).appendChild(el(ui, 'tr', ''));
  for (const c of block.columns) head.appendChild(el(ui, 'th', '', c));
  const body = table.appendChild(el(ui, 'tbody', ''));
  const rows: { node: DomNode; text: string }[] = [];
  for (const row of block.rows) {
    const tr = body.appendChild(el(ui, 'tr', ''));
    for (const cell of row) tr.appendChild(renderCell(ui, cell));
    rows.push({ node: tr, text: row.map((cell) => cellText(cell)).join(' ') });
  }
  if (block.filter) filterSlot.appendChild(filterInput(ui, rows));
  if (block.note) box.appendChild(el(ui, 'p', 'note', block.note));
  return box;
}

export function cellText(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'object') return cell.text;
  return String(cell);
}

export function renderCell(ui: Ui, cell: Cell): DomNode {
  const td = el(ui, 'td', typeof cell === 'number' ? 'num' : '');
  if (cell === null || typeof cell !== 'object') {
    td.textContent = cellText(cell);
    return td;
  }
  if (cell.tone) td.className = `tone-${cell.tone}`;
  const ids = cell.details ?? [];
  const inner = ids.length > 0 ? el(ui, 'button', 'open', cell.text) : el(ui, 'span', '', cell.text);
  if (cell.mono) inner.className += ' mono';
  if (cell.title) inner.title = cell.title;
  if (ids.length > 0) inner.addEventListener('click', () => openDetails(ui, cell.title ?? cell.text, ids));
  td.appendChild(inner);
  return td;
}

export function renderMatrix(ui: Ui, block: Extract<Block, { type: 'matrix' }>): DomNode {
  const box = el(ui, 'div', 'block wide');
  if (block.title) box.appendChild(el(ui, 'h3', '', block.title));
  const filterSlot = box.appendChild(el(ui, 'div', ''));
  const scroll = box.appendChild(el(ui, 'div', 'scroll tall'));
  const table = scroll.appendChild(el(ui, 'table', 'matrix'));
  const head = table.appendChild(el(ui, 'thead', '')).appendChild(el(ui, 'tr', ''));
  head.appendChild(el(ui, 'th', '', block.corner));
  for (const c of block.columns) head.appendChild(el(ui, 'th', '', c));
  const body = table.appendChild(el(ui, 'tbody', ''));
  const rows: { node: DomNode; text: string }[] = [];
  for (const row of block.rows) {
    const tr = body.appendChild(el(ui, 'tr', ''));
    const label = tr.appendChild(el(ui, 'th', 'row-label', row.label));
    if (row.sub) label.appendChild(el(ui, 'span', 'sub', row.sub));
    row.cells.forEach((cell, i) => tr.appendChild(matrixCell(ui, cell, `${block.columns[i] ?? ''} · ${row.label}`)));
    rows.push({ node: tr, text: `${row.label} ${row.sub ?? ''}` });
  }
  if (block.filter) filterSlot.appendChild(filterInput(ui, rows));
  if (block.note) box.appendChild(el(ui, 'p', 'note', block.note));
  return box;
}

export function matrixCell(ui: Ui, cell: MatrixCell | null, where: string): DomNode {
  const td = el(ui, 'td', 'cell');
  if (cell === null) return td;
  // Red (0) through yellow to green (1); grey when nothing was scored.
  const color = cell.value === null ? '#e4e4e4' : `hsl(${Math.round(cell.value * 120)}, 65%, 78%)`;
  td.style.setProperty('background', color);
  if (cell.details.length === 0) {
    td.textContent = cell.text;
    return td;
  }
  const button = td.appendChild(el(ui, 'button', 'open cell-button', cell.text));
  button.title = cell.title ?? where;
  button.addEventListener('click', () => openDetails(ui, where, cell.details));
  return td;
}

export function filterInput(ui: Ui, rows: { node: DomNode; text: string }[]): DomNode {
  const input = ui.doc.createElement('input');
  input.className = 'filter';
  input.setAttribute('type', 'search');
  input.setAttribute('placeholder', `filter ${rows.length} rows`);
  input.addEventListener('input', () => {
    const needle = input.value.trim().toLowerCase();
    for (const row of rows) row.node.hidden = needle !== '' && !row.text.toLowerCase().includes(needle);
  });
  return input;
}

/** One record opens directly; several open as a list to pick from. */
export function openDetails(ui: Ui, title: string, ids: string[]): void {
  if (ids.length === 1 && ids[0] !== undefined) {
    showDetail(ui, ids[0]);
    return;
  }
  const list = el(ui, 'ul', 'detail-list');
  for (const id of ids) {
    const detail = Object.hasOwn(ui.data.details, id) ? ui.data.details[id] : undefined;
    const button = list.appendChild(el(ui, 'li', '')).appendChild(el(ui, 'button', 'open', detail?.title ?? id));
    button.addEventListener('click', () => showDetail(ui, id));
  }
  showDialog(ui, title, [list]);
}

export function showDetail(ui: Ui, id: string): void {
  const detail = Object.hasOwn(ui.data.details, id) ? ui.data.details[id] : undefined;
  if (!detail) {
    showDialog(ui, id, [el(ui, 'p', 'note', 'This record was left out of the page (see the notes at the top).')]);
    return;
  }
  const nodes: DomNode[] = [];
  for (const field of detail.fields) {
    const box = el(ui, 'div', 'field');
    box.appendChild(el(ui, 'h4', '', field.label));
    box.appendChild(el(ui, field.kind === 'code' ? 'pre' : 'p', field.kind === 'code' ? 'code' : 'text', field.text));
    if (field.note) box.appendChild(el(ui, 'p', 'note', field.note));
    nodes.push(box);
  }
  showDialog(ui, detail.title, nodes);
}

export function showDialog(ui: Ui, title: string, nodes: DomNode[]): void {
  const close = el(ui, 'button', 'close', 'close');
  close.addEventListener('click', () => ui.dialog.close());
  const header = el(ui, 'div', 'dialog-head');
  header.append(el(ui, 'h3', '', title), close);
  ui.dialog.replaceChildren(header, ...nodes);
  if (!ui.dialog.open) ui.dialog.showModal();
}

/** The renderer's source for an inline script, ending with the call that draws the page. */
export function rendererSource(): string {
  const functions = [
    boot,
    el,
    renderSection,
    renderBlock,
    renderChart,
    chartConfig,
    renderTable,
    cellText,
    renderCell,
    renderMatrix,
    matrixCell,
    filterInput,
    openDetails,
    showDetail,
    showDialog,
  ];
  return [
    '"use strict";',
    ...functions.map((f) => f.toString()),
    "boot(document, typeof Chart === 'undefined' ? undefined : Chart);",
  ].join('\n');
}
