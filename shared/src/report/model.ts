// The page as data: what a kind contributes to report.html. Plain JSON (embedded in the page and
// drawn by the browser renderer), so a kind never writes HTML or browser code and the chart
// library could change without touching a kind.

/** A bar chart (grouped, or stacked) over labels, or a scatter of named points. */
export type ChartSpec =
  | {
      kind: 'bar';
      labels: string[];
      series: { name: string; values: (number | null)[] }[];
      stacked?: boolean;
      /** Bars along the y axis (long labels read better). */
      horizontal?: boolean;
      xTitle?: string;
      yTitle?: string;
      /** Upper bound of the value axis (e.g. 100 for percentages). */
      max?: number;
    }
  | {
      kind: 'scatter';
      series: { name: string; points: { x: number; y: number }[] }[];
      xTitle?: string;
      yTitle?: string;
      max?: number;
    };

/** Tone of a cell: how it is coloured. */
export type Tone = 'good' | 'bad' | 'warn' | 'muted';

/** A table cell: plain text or a number, or text that opens drill-down records when clicked. */
export type Cell =
  | string
  | number
  | null
  | {
      text: string;
      /** Detail ids: one opens directly, several open a list. */
      details?: string[];
      title?: string;
      tone?: Tone;
      /** Renders the text monospaced (signatures, ids). */
      mono?: boolean;
    };

export type MatrixCell = {
  text: string;
  /** 0..1: colours the cell from red (0) to green (1); null: grey. */
  value: number | null;
  details: string[];
  title?: string;
};

export type Block =
  | { type: 'text'; text: string }
  | { type: 'chart'; title: string; chart: ChartSpec; height?: number; /** The section's full width. */ wide?: boolean }
  | { type: 'table'; title?: string; columns: string[]; rows: Cell[][]; filter?: boolean; note?: string }
  | {
      type: 'matrix';
      title?: string;
      corner: string;
      columns: string[];
      rows: { label: string; sub?: string; cells: (MatrixCell | null)[] }[];
      filter?: boolean;
      note?: string;
    }
  | { type: 'links'; title?: string; items: { label: string; href: string }[] };

export type ReportSection = { id: string; title: string; intro?: string; blocks: Block[] };

/** One drill-down record (a sample, a job, a call): labelled fields, text or code. */
export type Detail = {
  title: string;
  fields: { label: string; text: string; kind?: 'text' | 'code'; note?: string }[];
};

/** What a kind adds to its run's page: sections, the records they open, and notes (e.g. caps applied). */
export type ReportPart = { sections: ReportSection[]; details?: Record<string, Detail>; notes?: string[] };

/** The whole page's data, as embedded in `<script type="application/json" id="report-data">`. */
export type ReportDoc = {
  title: string;
  subtitle: string;
  notes: string[];
  sections: ReportSection[];
  details: Record<string, Detail>;
};
