// Reads Grafana dashboard JSON for tests: every query (panel targets and query variables), the
// dockmaster metrics and labels a query uses, and PromQL with Grafana's variables filled in. Pure.

export interface DashboardQuery {
  /** Where the query sits, for failure messages: `panel "Retries" target B`. */
  readonly where: string;
  readonly expr: string;
  /** `promql` for panel targets; `variable` for a query variable (label_values(...) is not PromQL). */
  readonly kind: 'promql' | 'variable';
}

export interface DataSourceRef {
  readonly type?: string;
  readonly uid?: string;
}

export interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: DataSourceRef | string | null;
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string; readonly datasource?: DataSourceRef | string | null }[];
  /** Panels inside a collapsed row. */
  readonly panels?: readonly Panel[];
}

export interface TemplateVariable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: string | { readonly query?: string };
  readonly definition?: string;
  readonly datasource?: DataSourceRef | string | null;
}

export interface Dashboard {
  readonly uid?: string;
  readonly title?: string;
  readonly schemaVersion?: number;
  readonly panels?: readonly Panel[];
  readonly templating?: { readonly list?: readonly TemplateVariable[] };
}

/** Every panel, rows included, with the panels of collapsed rows flattened in. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const visit = (panels: readonly Panel[] | undefined): void => {
    for (const panel of panels ?? []) {
      out.push(panel);
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Panels that draw data; rows only group them. */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard).filter((panel) => panel.type !== 'row');
}

export function templateVariables(dashboard: Dashboard): TemplateVariable[] {
  return [...(dashboard.templating?.list ?? [])];
}

/** The query text of a query variable, in either of the shapes Grafana stores. */
export function variableQuery(variable: TemplateVariable): string | undefined {
  return typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? variable.definition);
}

export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of dataPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.expr !== undefined) {
        queries.push({ where: `panel "${panel.title ?? panel.id}" target ${target.refId ?? '?'}`, expr: target.expr, kind: 'promql' });
      }
    }
  }
  for (const variable of templateVariables(dashboard)) {
    const query = variable.type === 'query' ? variableQuery(variable) : undefined;
    if (query !== undefined) queries.push({ where: `variable $${variable.name ?? '?'}`, expr: query, kind: 'variable' });
  }
  return queries;
}

const METRIC_NAME = /\bdockmaster_[a-z0-9_]+/g;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * The dockmaster metric names an expression reads, with the series suffixes of a histogram
 * (`_bucket`, `_sum`, `_count`) mapped back to its base name. `isHistogram` says which defined
 * names are histograms: `dockmaster_x_total_count` is not a series of `dockmaster_x_total`.
 * A name that is neither defined nor a histogram series comes back unchanged, so the caller's
 * "is it defined?" check reports it.
 */
export function metricNamesIn(expr: string, isHistogram: (name: string) => boolean): string[] {
  const names = new Set<string>();
  for (const [raw] of expr.matchAll(METRIC_NAME)) {
    const suffix = HISTOGRAM_SUFFIXES.find((s) => raw.endsWith(s));
    const base = suffix === undefined ? undefined : raw.slice(0, -suffix.length);
    names.add(base !== undefined && isHistogram(base) ? base : raw);
  }
  return [...names].sort();
}

export interface SelectorLabels {
  /** The metric as written, suffix included (`..._bucket`). */
  readonly series: string;
  readonly labels: readonly string[];
}

/** The label names matched in each `dockmaster_...{...}` selector of an expression. */
export function selectorLabelsIn(expr: string): SelectorLabels[] {
  const out: SelectorLabels[] = [];
  for (const match of expr.matchAll(/\b(dockmaster_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const [, series = '', body = ''] = match;
    const labels = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(([, label = '']) => label);
    out.push({ series, labels });
  }
  return out;
}

/** The label names of every `by (...)` / `without (...)` grouping in an expression. */
export function groupingLabelsIn(expr: string): string[] {
  const labels = new Set<string>();
  for (const [, list = ''] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of list.split(',')) {
      const trimmed = label.trim();
      if (trimmed !== '') labels.add(trimmed);
    }
  }
  return [...labels].sort();
}

/** Grafana's interval macros; any value that is a valid PromQL duration will do for a syntax check. */
const INTERVAL_MACROS = /\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g;

/**
 * The expression as Prometheus would receive it, for a syntax check: interval macros become
 * `5m`, template variables (`$route`, `${route}`, `[[route]]`) become `.*` (they sit in regex
 * matchers). Throws on a variable form it does not know, so nothing slips through unsubstituted.
 */
export function withVariablesFilled(expr: string): string {
  const filled = expr
    .replace(INTERVAL_MACROS, '5m')
    .replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]/g, '.*');
  if (filled.includes('$')) throw new Error(`unknown Grafana variable form left in: ${filled}`);
  return filled;
}
