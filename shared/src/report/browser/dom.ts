// The little of the DOM and of Chart.js the page's renderer uses, typed here so the project needs
// neither the DOM library types (they would leak into every Node module) nor Chart.js's types.

export interface DomNode {
  textContent: string | null;
  className: string;
  title: string;
  id: string;
  hidden: boolean;
  readonly style: { setProperty(name: string, value: string): void };
  appendChild<T extends DomNode>(child: T): T;
  append(...nodes: (DomNode | string)[]): void;
  replaceChildren(...nodes: (DomNode | string)[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: () => void): void;
}

export interface DomInput extends DomNode {
  value: string;
}

export interface DomDialog extends DomNode {
  readonly open: boolean;
  showModal(): void;
  close(): void;
}

export interface DomDocument {
  readonly body: DomNode;
  createElement(tag: 'input'): DomInput;
  createElement(tag: 'dialog'): DomDialog;
  createElement(tag: string): DomNode;
  getElementById(id: string): DomNode | null;
}

export type ChartDataset = {
  label: string;
  data: (number | null | { x: number; y: number })[];
  backgroundColor: string;
  borderColor: string;
  pointRadius?: number;
};

/** A Chart.js configuration without callbacks (plain data). */
export type ChartConfig = {
  type: 'bar' | 'scatter';
  data: { labels?: string[]; datasets: ChartDataset[] };
  options: Record<string, unknown>;
};

export type ChartConstructor = new (canvas: DomNode, config: ChartConfig) => unknown;
