// Every panel of every dashboard in grafana/dashboards shows data from a real Prometheus (Debian's
// /usr/bin/prometheus, scraping the admin /metrics every second) that watched a real gateway go
// through traffic, upstream resets and retries, a canary rollout with analysis, a scale-up, a cold
// start from zero, a crash, a rejected reload, ejections and a Consul provider (the double). Each
// target is sent as Grafana would send it (variables and interval macros filled in) to the HTTP
// API; the panels made to count those events must show them, not a flat 0. Integration: real
// child processes and sockets on 127.0.0.1; every wait polls with a deadline.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import {
  dashboardQueries,
  type Dashboard,
  type DashboardQuery,
  interpolate,
  type Interpolation,
  templateVariables,
  variableQuery,
  type VariableSelection,
} from '../../unit/grafana/dashboard-queries.js';
import { finiteValues, startPrometheus, type RunningPrometheus, type Series } from './prometheus-server.js';
import { AUTOSCALED, CANARY, SCALED_TO_ZERO, ScenarioGateway } from './scenario.js';

const DASHBOARDS_DIR = fileURLToPath(new URL('../../../grafana/dashboards', import.meta.url));
const dashboards = readdirSync(DASHBOARDS_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard }));

/** Range queries every second over the whole run, as a Grafana panel over that time range would. */
const STEP_S = 1;
/** Grafana's $__rate_interval is max(4 x scrape interval, step + scrape interval); 10 s is safely above both here. */
const RATE_INTERVAL = '10s';

let gateway: ScenarioGateway | undefined;
let prometheus: RunningPrometheus | undefined;
let revisions: readonly [string, string] = ['', ''];
let fromS = 0;
let toS = 0;

/** What a user would pick to look at this run, per dashboard: All, one service with both of its
 * revisions (a multi-value regex), several services. */
function selectionFor(file: string): Readonly<Record<string, VariableSelection>> {
  switch (file) {
    case 'dockmaster-overview.json':
      return { route: 'all', service: 'all' };
    case 'dockmaster-service.json':
      return { service: [CANARY], revision: revisions };
    case 'dockmaster-deployments.json':
      return { service: [CANARY, AUTOSCALED, SCALED_TO_ZERO], revision: 'all' };
    default:
      throw new Error(`${file}: no variable selection for this dashboard; add one to selectionFor`);
  }
}

function interpolation(file: string): Interpolation {
  return { variables: selectionFor(file), intervals: { rate_interval: RATE_INTERVAL, interval: `${STEP_S}s`, range: `${toS - fromS}s` } };
}

function live(): RunningPrometheus {
  if (prometheus === undefined) throw new Error('Prometheus did not start');
  return prometheus;
}

/** The answer to one panel target over the run: a range query, or an instant one at its end. */
async function evaluate(file: string, dashboard: Dashboard, target: DashboardQuery): Promise<{ expr: string; series: Series[] }> {
  const expr = interpolate(target.expr, dashboard, interpolation(file));
  const series = target.instant === true ? await live().query(expr, toS) : await live().queryRange(expr, fromS, toS, STEP_S);
  return { expr, series };
}

function panelTargets(dashboard: Dashboard): DashboardQuery[] {
  return dashboardQueries(dashboard).filter((q) => q.kind === 'promql');
}

beforeAll(async () => {
  gateway = await ScenarioGateway.start();
  fromS = Math.floor(Date.now() / 1000);
  prometheus = await startPrometheus([new URL(gateway.cli.adminUrl).host]);
  // Prometheus applies new scrape targets up to 5 s after it starts: the events must come after
  // its first scrape, or the panels that count them see a series born with its first event.
  await eventually(async () => {
    const [up] = await live().query('up{job="dockmaster"} == 1', Date.now() / 1000);
    expect(up, `a successful scrape of the gateway\n${live().log()}`).toBeDefined();
  }, { timeoutMs: 15_000, intervalMs: 250 });
  revisions = await gateway.run();
  // Prometheus has scraped the gateway a few times since the last event, so that rate windows
  // hold samples from before and after each one.
  const doneS = Date.now() / 1000;
  await eventually(async () => {
    const [up] = await live().query('timestamp(up{job="dockmaster"} == 1)', Date.now() / 1000);
    expect(Number(up?.values[0]?.[1]), `the last scrape of the gateway\n${live().log()}`).toBeGreaterThan(doneS + 2);
  }, { timeoutMs: 10_000, intervalMs: 250 });
  toS = Math.ceil(Date.now() / 1000);
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await gateway?.stop();
}, 30_000);

describe.each(dashboards)('$file against a real Prometheus', ({ file, dashboard }) => {
  it('returns data for every panel target, as Grafana would query it', async () => {
    const targets = panelTargets(dashboard);
    expect(targets.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const target of targets) {
      const { expr, series } = await evaluate(file, dashboard, target);
      if (finiteValues(series).length === 0) problems.push(`${file} ${target.where}: no data (${series.length} series, none with a number) for ${expr}`);
    }
    expect(problems).toEqual([]);
  });

  it('lists the picked values in every query variable', async () => {
    const selection = selectionFor(file);
    const problems: string[] = [];
    for (const variable of templateVariables(dashboard).filter((v) => v.type === 'query')) {
      const name = variable.name ?? '?';
      const query = variableQuery(variable) ?? '';
      const parsed = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query);
      if (parsed === null) {
        problems.push(`$${name}: ${query} is not label_values(SELECTOR, LABEL)`);
        continue;
      }
      const [, match = '', label = ''] = parsed;
      const values = await live().labelValues(label, interpolate(match, dashboard, interpolation(file)), fromS, toS);
      const picked = selection[name];
      const wanted = picked === undefined || picked === 'all' ? [] : picked;
      if (values.length === 0) problems.push(`$${name} lists nothing for ${query}`);
      for (const value of wanted) if (!values.includes(value)) problems.push(`$${name} lists ${JSON.stringify(values)}, not ${value}`);
    }
    expect(problems).toEqual([]);
  });
});

// Panels that count what the run did: each must show more than 0 somewhere in the range. A
// counter series born at its first event would show no increase() here; these catch that.
const EVENT_PANELS = [
  ['dockmaster-overview.json', 'Error ratio (5xx share)', 'A', "revision 1's injected 500s"],
  ['dockmaster-overview.json', 'Upstream errors by kind', 'A', 'connections the resetting Consul instance drops'],
  ['dockmaster-overview.json', 'Retries', 'A', 'retries after those resets'],
  ['dockmaster-overview.json', 'Replica restarts', 'A', 'the crashing replica replaced'],
  ['dockmaster-overview.json', 'Config reload failures', 'A', 'the one rejected route file'],
  ['dockmaster-service.json', 'Traffic share by revision', 'B', "the canary's 50% weight"],
  ['dockmaster-service.json', 'Error ratio by revision (5xx share)', 'A', "revision 1's injected 500s"],
  ['dockmaster-service.json', 'Passive-health ejections', 'A', 'ejections after consecutive 500s'],
  ['dockmaster-deployments.json', 'Traffic weights', 'A', "the canary's 50% weight"],
  ['dockmaster-deployments.json', 'Canary analysis intervals by verdict', 'A', 'the passing analysis intervals'],
  ['dockmaster-deployments.json', 'Rollouts ended', 'A', 'the promoted canary'],
  ['dockmaster-deployments.json', 'Scaling decisions', 'A', 'the scale-up under load and the start from zero'],
  ['dockmaster-deployments.json', 'Cold starts', 'A', 'the one cold start (its duration)'],
  ['dockmaster-deployments.json', 'Cold starts', 'B', 'the one cold start (its count)'],
  ['dockmaster-deployments.json', 'Held requests', 'B', 'the requests held until a replica was ready'],
] as const;

describe('panels that count the run', () => {
  it.each(EVENT_PANELS)('%s "%s" target %s shows %s', async (file, panel, refId) => {
    const entry = dashboards.find((d) => d.file === file);
    const target = panelTargets(entry?.dashboard ?? {}).find((t) => t.panel === panel && t.refId === refId);
    expect(target, `${file} has a panel "${panel}" with a target ${refId}`).toBeDefined();
    if (entry === undefined || target === undefined) return;
    const { expr, series } = await evaluate(file, entry.dashboard, target);
    const values = finiteValues(series);
    expect(Math.max(0, ...values), `${file} ${target.where}: ${expr}\n${JSON.stringify(series).slice(0, 1500)}`).toBeGreaterThan(0);
  });
});
