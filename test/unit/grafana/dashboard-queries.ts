// Reads Grafana dashboard JSON for tests: every query (panel targets and query variables), the
// dockmaster metrics, labels and variables a query uses, and the PromQL Grafana would send for a
// variable selection (or with placeholders, for a syntax check). Pure.

export interface DashboardQuery {
  /** Where the query sits, for failure messages: `panel "Retries" target B`. */
  readonly where: string;
  readonly expr: string;
  /** `promql` for panel targets; `variable` for a query variable (label_values(...) is not PromQL). */
  readonly kind: 'promql' | 'variable';
  /** Panel targets: the panel's title and the target's refId. */
  readonly panel?: string;
  readonly refId?: string;
  /** A target Grafana evaluates once at the end of the time range (stat panels), not as a range. */
  readonly instant?: boolean;
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
  readonly targets?: readonly {
    readonly refId?: string;
    readonly expr?: string;
    readonly instant?: boolean;
    readonly range?: boolean;
    readonly datasource?: DataSourceRef | string | null;
  }[];
  /** Panels inside a collapsed row. */
  readonly panels?: readonly Panel[];
}

export interface TemplateVariable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: string | { readonly query?: string };
  readonly definition?: string;
  readonly datasource?: DataSourceRef | string | null;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string | null;
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
        const title = panel.title ?? String(panel.id);
        queries.push({
          where: `panel "${title}" target ${target.refId ?? '?'}`,
          expr: target.expr,
          kind: 'promql',
          panel: title,
          refId: target.refId ?? '?',
          instant: target.instant === true && target.range !== true,
        });
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

/** What the user picked in a variable: some values, or the All option. */
export type VariableSelection = readonly string[] | 'all';

export interface Interpolation {
  /** The selection of every template variable a query names (the datasource variable aside). */
  readonly variables: Readonly<Record<string, VariableSelection>>;
  /** Values of Grafana's interval macros: `$__rate_interval`, `$__interval`, `$__range`. */
  readonly intervals: { readonly rate_interval: string; readonly interval: string; readonly range: string };
}

/** Grafana's Prometheus datasource escapes a multi-value or All-able variable's values as regex
 * literals inside a PromQL string: a regex special gets a backslash, itself escaped for PromQL. */
function regexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/** A single-value variable is only escaped for the PromQL string it sits in. */
function stringEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/** The text Grafana's Prometheus datasource puts in place of a variable (interpolateQueryExpr). */
export function formatVariable(variable: TemplateVariable, selection: VariableSelection): string {
  const name = variable.name ?? '?';
  if (selection === 'all') {
    if (variable.includeAll !== true) throw new Error(`variable $${name} has no All option`);
    if (typeof variable.allValue === 'string' && variable.allValue !== '') return variable.allValue;
    throw new Error(`variable $${name} has no allValue: Grafana would list every value it found`);
  }
  if (selection.length === 0) throw new Error(`variable $${name}: nothing selected`);
  if (variable.multi !== true && variable.includeAll !== true) {
    if (selection.length !== 1) throw new Error(`variable $${name} takes one value, got ${selection.length}`);
    return stringEscape(selection[0] as string);
  }
  if (variable.multi !== true && selection.length !== 1) throw new Error(`variable $${name} takes one value, got ${selection.length}`);
  const escaped = selection.map(regexEscape);
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
}

const VARIABLE_REFERENCE = /\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-z]+))?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]/g;
const MACROS = new Set(['__rate_interval', '__interval', '__range']);

/**
 * The expression as Grafana sends it to Prometheus for the given variable selection and
 * intervals: macros replaced, every `$name`, `${name}` and `[[name]]` formatted like Grafana's
 * Prometheus datasource (one value of a single-value variable as is; several values as
 * `(a|b)` of regex-escaped values; All as the variable's allValue). Throws on a variable the
 * dashboard does not define or the selection does not give, and on a `${name:format}` form.
 */
export function interpolate(expr: string, dashboard: Dashboard, interpolation: Interpolation): string {
  const defined = new Map(templateVariables(dashboard).map((v) => [v.name ?? '', v]));
  return expr.replace(VARIABLE_REFERENCE, (whole, braced?: string, format?: string, plain?: string, bracketed?: string) => {
    const name = braced ?? plain ?? bracketed ?? '';
    if (format !== undefined) throw new Error(`${whole}: formats are not interpolated here`);
    if (MACROS.has(name)) return interpolation.intervals[name.slice(2) as keyof Interpolation['intervals']];
    if (name.startsWith('__')) throw new Error(`${whole}: unknown Grafana macro`);
    const variable = defined.get(name);
    if (variable === undefined) throw new Error(`${whole}: the dashboard defines no variable ${name}`);
    const selection = interpolation.variables[name];
    if (selection === undefined) throw new Error(`${whole}: no selection given for variable ${name}`);
    return formatVariable(variable, selection);
  });
}

/** Names of the template variables an expression refers to (macros left out). */
export function variablesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const [, braced, , plain, bracketed] of expr.matchAll(VARIABLE_REFERENCE)) {
    const name = braced ?? plain ?? bracketed ?? '';
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names].sort();
}
