// The grafana/ folder: every dashboard query reads metrics and labels that dockmaster defines,
// through the `${datasource}` variable and the variables the dashboard defines; provisioning and
// the example prometheus.yml hold together. Reads files; runs `promtool` (a child process, no
// sockets), which must be installed (Debian's prometheus package; .ci/run installs it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { METRIC } from '../../../src/observability/metric-names.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import {
  allPanels,
  type Dashboard,
  dashboardQueries,
  dataPanels,
  type DataSourceRef,
  formatVariable,
  groupingLabelsIn,
  interpolate,
  metricNamesIn,
  selectorLabelsIn,
  templateVariables,
  variableQuery,
  variablesIn,
  withVariablesFilled,
} from './dashboard-queries.js';

const GRAFANA_DIR = fileURLToPath(new URL('../../../grafana', import.meta.url));
const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');
const PROMETHEUS_YML = join(GRAFANA_DIR, 'prometheus.yml');

const DATASOURCE_VARIABLE = '${datasource}';

const dashboards = readdirSync(DASHBOARDS_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard }));

// What the code defines: the names in one table, the types and labels where they are registered.
const definedNames = new Set<string>(Object.values(METRIC));
const registry = new Registry();
createMetrics(registry);

function isHistogram(name: string): boolean {
  // prom-client's Histogram and dockmaster's scraped request histogram both say so in `type`.
  return (registry.getSingleMetric(name) as { type?: string } | undefined)?.type === 'histogram';
}

/** Label names a metric carries, from its prom-client definition; histogram series add `le`. */
function labelsOf(series: string): Set<string> | undefined {
  const base = metricNamesIn(series, isHistogram)[0] ?? series;
  const metric = registry.getSingleMetric(base);
  if (metric === undefined) return undefined;
  const labelNames: unknown = Reflect.get(metric, 'labelNames');
  if (!Array.isArray(labelNames)) throw new Error(`prom-client no longer exposes labelNames on ${base}`);
  const labels = new Set(labelNames.map(String));
  if (series.endsWith('_bucket') && isHistogram(base)) labels.add('le');
  return labels;
}

function usesDatasourceVariable(ref: DataSourceRef | string | null | undefined): boolean {
  return typeof ref === 'string' ? ref === DATASOURCE_VARIABLE : ref?.uid === DATASOURCE_VARIABLE;
}

const promtoolPath = ((): string | undefined => {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined;
})();

/** Runs promtool; a missing promtool fails the check that needs it (these checks never skip). */
function promtool(args: readonly string[]): { status: number | null; output: string } {
  if (promtoolPath === undefined) {
    throw new Error("promtool is not on PATH: install it with 'apt-get install -y prometheus' (.ci/run installs it); the promtool checks of grafana/ do not skip");
  }
  const run = spawnSync(promtoolPath, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error?.message ?? ''}` };
}

describe('the dashboard query reader', () => {
  it.each([
    ['a counter', 'rate(dockmaster_proxy_requests_total[5m])', ['dockmaster_proxy_requests_total']],
    ['the buckets of a histogram, as the histogram', 'histogram_quantile(0.9, sum by (le) (rate(dockmaster_proxy_request_duration_seconds_bucket[5m])))', ['dockmaster_proxy_request_duration_seconds']],
    ['_sum and _count of a histogram, once', 'dockmaster_proxy_request_duration_seconds_sum / dockmaster_proxy_request_duration_seconds_count', ['dockmaster_proxy_request_duration_seconds']],
    ['a _count suffix on a counter, unchanged (so it is reported)', 'dockmaster_proxy_requests_total_count', ['dockmaster_proxy_requests_total_count']],
    ['a query variable', 'label_values(dockmaster_proxy_requests_total{route=~"$route"}, service)', ['dockmaster_proxy_requests_total']],
  ])('finds %s', (_case, expr, names) => {
    expect(metricNamesIn(expr, isHistogram)).toEqual(names);
  });

  it('finds the labels of selectors and groupings', () => {
    const expr = 'sum by (route, le) (rate(dockmaster_proxy_request_duration_seconds_bucket{route=~"$route", status_class!="2xx"}[5m]))';
    expect(selectorLabelsIn(expr)).toEqual([{ series: 'dockmaster_proxy_request_duration_seconds_bucket', labels: ['route', 'status_class'] }]);
    expect(groupingLabelsIn(expr)).toEqual(['le', 'route']);
  });

  it('fills Grafana variables in for a PromQL syntax check', () => {
    expect(withVariablesFilled('rate(x{a=~"$route", b=~"${service}", c=~"[[rev]]"}[$__rate_interval])')).toBe('rate(x{a=~".*", b=~".*", c=~".*"}[5m])');
  });

  const single = { name: 'service', type: 'query', multi: false, includeAll: false };
  const multi = { name: 'revision', type: 'query', multi: true, includeAll: true, allValue: '.*' };
  it.each([
    ['one value of a single-value variable, as is', single, ['api.v2'], 'api.v2'],
    ['a backslash and a quote of a single-value variable, escaped for the string', single, ["a\\b'c"], "a\\\\b\\\\'c"],
    ['one value of a multi-value variable, regex-escaped', multi, ['demo.r1'], 'demo\\\\.r1'],
    ['several values, as an alternation of regex-escaped values', multi, ['r1', 'r2+x'], '(r1|r2\\\\+x)'],
    ['the All option, as the allValue', multi, 'all', '.*'],
  ] as const)('formats %s like Grafana\'s Prometheus datasource', (_case, variable, selection, text) => {
    expect(formatVariable(variable, selection)).toBe(text);
  });

  it.each([
    ['All on a variable without it', single, 'all', /has no All option/],
    ['two values on a single-value variable', single, ['a', 'b'], /takes one value, got 2/],
    ['an empty selection', multi, [], /nothing selected/],
    ['All without an allValue', { ...multi, allValue: null }, 'all', /has no allValue/],
  ] as const)('refuses %s', (_case, variable, selection, error) => {
    expect(() => formatVariable(variable, selection)).toThrow(error);
  });

  it('interpolates variables and interval macros as Grafana sends them', () => {
    const dashboard = { templating: { list: [single, multi] } };
    const intervals = { rate_interval: '10s', interval: '1s', range: '60s' };
    const expr = 'sum(rate(x{service="$service", revision=~"${revision}"}[$__rate_interval])) + y[[[revision]]] + z[${__range}]';
    expect(interpolate(expr, dashboard, { variables: { service: ['demo'], revision: ['r1', 'r2'] }, intervals })).toBe(
      'sum(rate(x{service="demo", revision=~"(r1|r2)"}[10s])) + y[(r1|r2)] + z[60s]',
    );
    expect(variablesIn(expr)).toEqual(['revision', 'service']);
    expect(() => interpolate('x{a="$route"}', dashboard, { variables: {}, intervals })).toThrow(/defines no variable route/);
    expect(() => interpolate('x{a="$service"}', dashboard, { variables: {}, intervals })).toThrow(/no selection given for variable service/);
    expect(() => interpolate('x[$__interval_ms]', dashboard, { variables: {}, intervals })).toThrow(/unknown Grafana macro/);
  });
});

describe('grafana dashboards', () => {
  it('are found in grafana/dashboards: overview, service, deployments and scaling', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['dockmaster-deployments.json', 'dockmaster-overview.json', 'dockmaster-service.json']);
  });

  it('have distinct uids and titles', () => {
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    expect(new Set(dashboards.map((d) => d.dashboard.title)).size).toBe(dashboards.length);
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    const queries = dashboardQueries(dashboard);

    it('is a schemaVersion 39 dashboard with a uid and unique panel ids', () => {
      expect(dashboard.schemaVersion).toBe(39);
      expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      const ids = allPanels(dashboard).map((panel) => panel.id);
      expect(ids.every((id) => typeof id === 'number')).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('has a Prometheus datasource variable named datasource', () => {
      const variable = templateVariables(dashboard).find((v) => v.name === 'datasource');
      expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    });

    it('reads every panel, every target and every query variable through ${datasource}', () => {
      const panels = dataPanels(dashboard);
      expect(panels.length).toBeGreaterThan(0);
      const offenders: string[] = [];
      for (const panel of panels) {
        const title = panel.title ?? String(panel.id);
        if (!usesDatasourceVariable(panel.datasource)) offenders.push(`panel "${title}"`);
        if ((panel.targets ?? []).length === 0) offenders.push(`panel "${title}" has no query`);
        for (const target of panel.targets ?? []) {
          if (target.datasource !== undefined && !usesDatasourceVariable(target.datasource)) offenders.push(`panel "${title}" target ${target.refId ?? '?'}`);
        }
      }
      for (const variable of templateVariables(dashboard).filter((v) => v.type === 'query')) {
        if (!usesDatasourceVariable(variable.datasource)) offenders.push(`variable $${variable.name ?? '?'}`);
      }
      expect(offenders).toEqual([]);
    });

    it('refers only to variables it defines, each query variable only to the ones before it', () => {
      const problems: string[] = [];
      const variables = templateVariables(dashboard);
      const names = variables.map((v) => v.name ?? '?');
      for (const query of queries) {
        const position = query.kind === 'variable' ? names.indexOf(query.where.replace(/^variable \$/, '')) : names.length;
        for (const name of variablesIn(query.expr)) {
          const at = names.indexOf(name);
          if (at === -1) problems.push(`${query.where} refers to $${name}, which the dashboard does not define`);
          else if (at >= position) problems.push(`${query.where} refers to $${name}, defined after it`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('lays its panels out on the 24-column grid without overlaps', () => {
      const boxes = allPanels(dashboard).map((panel) => ({ title: panel.title ?? String(panel.id), ...(panel as { gridPos?: { x: number; y: number; w: number; h: number } }).gridPos }));
      const problems: string[] = [];
      for (const [i, a] of boxes.entries()) {
        if (a.x === undefined || a.y === undefined || a.w === undefined || a.h === undefined) {
          problems.push(`panel "${a.title}" has no gridPos`);
          continue;
        }
        if (a.x < 0 || a.w < 1 || a.x + a.w > 24) problems.push(`panel "${a.title}" leaves the 24 columns`);
        for (const b of boxes.slice(i + 1)) {
          if (b.x === undefined || b.y === undefined || b.w === undefined || b.h === undefined) continue;
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) problems.push(`panels "${a.title}" and "${b.title}" overlap`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('queries only metrics defined in src/observability/metric-names.ts', () => {
      expect(queries.length).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const query of queries) {
        const names = metricNamesIn(query.expr, isHistogram);
        if (names.length === 0) problems.push(`${query.where} reads no dockmaster metric: ${query.expr}`);
        for (const name of names) {
          if (!definedNames.has(name)) problems.push(`${query.where} reads ${name}, which METRIC does not define`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('matches and groups only by labels those metrics carry', () => {
      const problems: string[] = [];
      for (const query of queries) {
        const carried = new Set<string>();
        for (const { series, labels } of selectorLabelsIn(query.expr)) {
          const known = labelsOf(series);
          if (known === undefined) {
            problems.push(`${query.where}: ${series} is not registered by createMetrics, so its labels cannot be checked`);
            continue;
          }
          for (const label of labels) if (!known.has(label)) problems.push(`${query.where}: ${series} has no label ${label}`);
        }
        for (const name of metricNamesIn(query.expr, isHistogram)) {
          for (const label of labelsOf(`${name}${isHistogram(name) ? '_bucket' : ''}`) ?? []) carried.add(label);
        }
        for (const label of groupingLabelsIn(query.expr)) {
          if (!carried.has(label)) problems.push(`${query.where} groups by ${label}, which none of its metrics carries`);
        }
        if (query.kind === 'variable') {
          const label = /,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(query.expr)?.[1];
          if (label === undefined || !carried.has(label)) problems.push(`${query.where} lists values of ${label ?? '?'}, which its metric does not carry`);
        }
      }
      expect(problems).toEqual([]);
    });
  });

  it.each([
    ['dockmaster-overview.json', 'route', METRIC.proxyRequestsTotal, true],
    ['dockmaster-overview.json', 'service', METRIC.proxyRequestsTotal, true],
    ['dockmaster-service.json', 'service', METRIC.serviceDesiredReplicas, false],
    ['dockmaster-service.json', 'revision', METRIC.serviceReplicas, true],
    ['dockmaster-deployments.json', 'service', METRIC.serviceDesiredReplicas, true],
    ['dockmaster-deployments.json', 'revision', METRIC.serviceReplicas, true],
  ] as const)('%s offers a $%s variable listing the label values of %s (multi-value with All: %s)', (file, name, metric, multi) => {
    const variable = templateVariables(dashboards.find((d) => d.file === file)?.dashboard ?? {}).find((v) => v.name === name);
    expect(variable?.type).toBe('query');
    expect(variableQuery(variable ?? {})).toMatch(new RegExp(`^label_values\\(${metric}\\b.*,\\s*${name}\\)$`));
    expect({ multi: variable?.multi, includeAll: variable?.includeAll }).toEqual({ multi, includeAll: multi });
    if (multi) expect(variable?.allValue).toBe('.*');
  });

  it('filter the revision variable by the selected service', () => {
    for (const file of ['dockmaster-service.json', 'dockmaster-deployments.json']) {
      const revision = templateVariables(dashboards.find((d) => d.file === file)?.dashboard ?? {}).find((v) => v.name === 'revision');
      expect(variablesIn(variableQuery(revision ?? {}) ?? ''), file).toEqual(['service']);
    }
  });
});

describe('grafana provisioning', () => {
  it('provisions a Prometheus datasource', () => {
    const file = parseYaml(readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/dockmaster.yaml'), 'utf8'));
    expect(file).toMatchObject({ apiVersion: 1, datasources: [{ type: 'prometheus', access: 'proxy', url: 'http://127.0.0.1:9091' }] });
  });

  it('provisions the dashboards folder, and so every dashboard in it, through one file provider', () => {
    const file = parseYaml(readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/dockmaster.yaml'), 'utf8'));
    expect(file).toMatchObject({ apiVersion: 1, providers: [{ type: 'file', options: { foldersFromFilesStructure: false } }] });
    expect(file.providers).toHaveLength(1);
    expect(file.providers[0].options.path).toBe('${DOCKMASTER_GRAFANA_DIR}/dashboards');
    // Grafana's file provider reads every *.json file of the folder: nothing else may sit there.
    expect(readdirSync(DASHBOARDS_DIR).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });

  it('has prometheus.yml scrape the admin listener at 127.0.0.1:9090/metrics', () => {
    const config = parseYaml(readFileSync(PROMETHEUS_YML, 'utf8'));
    expect(config.scrape_configs).toMatchObject([{ job_name: 'dockmaster', metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:9090'] }] }]);
  });
});

describe('promtool', () => {
  it('accepts the example prometheus.yml', () => {
    const run = promtool(['check', 'config', PROMETHEUS_YML]);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('accepts it with the commented bearer-token block uncommented', () => {
    const lines = readFileSync(PROMETHEUS_YML, 'utf8').split('\n');
    const start = lines.findIndex((line) => line.trim() === '# authorization:');
    expect(start).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'dockmaster-promtool-'));
    try {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'example-token\n', { mode: 0o600 });
      const uncommented = [...lines.slice(0, start), ...lines.slice(start).map((line) => line.replace(/^(\s*)# /, '$1'))].join('\n');
      expect(uncommented).toContain('credentials_file: /etc/prometheus/dockmaster-token');
      const configFile = join(dir, 'prometheus.yml');
      writeFileSync(configFile, uncommented.replace('/etc/prometheus/dockmaster-token', tokenFile));
      expect(parseYaml(uncommented).scrape_configs[0].authorization).toEqual({ type: 'Bearer', credentials_file: '/etc/prometheus/dockmaster-token' });
      const run = promtool(['check', 'config', configFile]);
      expect(run.status, run.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses every dashboard query as PromQL', () => {
    const rules = dashboards.flatMap(({ file, dashboard }) =>
      dashboardQueries(dashboard)
        .filter((query) => query.kind === 'promql')
        .map((query) => ({ file, where: query.where, expr: withVariablesFilled(query.expr) })),
    );
    expect(rules.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'dockmaster-promtool-'));
    try {
      const rulesFile = join(dir, 'dashboard-queries.yml');
      const groups = [{ name: 'dashboard-queries', rules: rules.map((rule, i) => ({ record: `dashboard_query_${i}`, expr: rule.expr })) }];
      writeFileSync(rulesFile, stringifyYaml({ groups }));
      const run = promtool(['check', 'rules', rulesFile]);
      const legend = rules.map((rule, i) => `dashboard_query_${i}: ${rule.file} ${rule.where}`).join('\n');
      expect(run.status, `${run.output}\n${legend}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
