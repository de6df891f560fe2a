// Every query of every generated dashboard, read from the committed JSON as Grafana would load it.
import { readdir, readFile } from 'node:fs/promises';

export type DashboardQuery = {
  dashboard: string;
  title: string;
  refId: string;
  expr: string;
  instant: boolean;
  datasource: unknown;
};

type PanelJson = {
  type: string;
  title?: string;
  panels?: PanelJson[];
  targets?: { refId?: string; expr?: string; instant?: boolean; datasource?: unknown }[];
};

export async function dashboardQueries(dir = 'deploy/grafana/dashboards'): Promise<DashboardQuery[]> {
  const out: DashboardQuery[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const d = JSON.parse(await readFile(`${dir}/${file}`, 'utf8')) as { uid: string; panels: PanelJson[] };
    const walk = (panels: PanelJson[]) => {
      for (const p of panels) {
        if (p.panels) walk(p.panels);
        for (const t of p.targets ?? []) {
          out.push({
            dashboard: d.uid,
            title: p.title ?? '',
            refId: t.refId ?? '',
            expr: t.expr ?? '',
            instant: t.instant ?? false,
            datasource: t.datasource,
          });
        }
      }
    };
    walk(d.panels);
  }
  return out;
}

/** The query as Prometheus receives it from Grafana, with Grafana's interval variables filled in. */
export function concreteExpr(expr: string, vars: { rateInterval: string; range: string }): string {
  return expr.replaceAll('$__rate_interval', vars.rateInterval).replaceAll('$__range', vars.range);
}
