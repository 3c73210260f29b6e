// RouteStore on a real temp folder: load, reject keeping the previous set, watch, and persist
// admin edits. Files only, no sockets; waits poll with a deadline.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RouteStore } from '../../../src/config/route-store.js';
import { ConfigError } from '../../../src/errors.js';
import type { RouteSpec } from '../../../src/model/route.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { eventually } from '../../helpers/eventually.js';

const ROUTE_A = 'kind: Route\nname: a\nmatch:\n  pathPrefix: /a\nservice: svc-a\n';
const ROUTE_B = 'kind: Route\nname: b\nmatch:\n  pathPrefix: /b\nupstreams:\n  - url: http://127.0.0.1:3001\n';

interface Harness {
  readonly dir: string;
  readonly store: RouteStore;
  readonly metrics: Metrics;
  readonly logs: Array<Record<string, unknown>>;
  readonly changes: Array<readonly RouteSpec[]>;
}

let harness: Harness;

function names(specs: readonly RouteSpec[] | undefined): string[] {
  return (specs ?? []).map((s) => s.name);
}

async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return sample?.value ?? 0;
}

function reloadLogs(result: string): Array<Record<string, unknown>> {
  return harness.logs.filter((line) => line['event'] === 'config_reload' && line['result'] === result);
}

async function write(name: string, text: string): Promise<void> {
  await writeFile(join(harness.dir, name), text);
}

async function filesInDir(): Promise<string[]> {
  return (await readdir(harness.dir)).sort();
}

beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dockmaster-routes-'));
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logs.push(JSON.parse(line)) } });
  const metrics = createMetrics(new Registry());
  const changes: Array<readonly RouteSpec[]> = [];
  const store = new RouteStore({ dir, logger, metrics, onChange: (specs) => changes.push(specs), debounceMs: 20, pollIntervalMs: 200 });
  harness = { dir, store, metrics, logs, changes };
});

afterEach(async () => {
  await harness.store.close();
  await rm(harness.dir, { recursive: true, force: true });
});

describe('RouteStore.load', () => {
  it('loads every route of the folder in file order and calls onChange once', async () => {
    await write('b.yaml', ROUTE_B);
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    expect(names(harness.store.list())).toEqual(['a', 'b']);
    expect(harness.store.get('b')?.upstreams).toEqual([{ url: 'http://127.0.0.1:3001' }]);
    expect(harness.store.get('a')?.timeoutMs).toBe(30000);
    expect(harness.changes.map(names)).toEqual([['a', 'b']]);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'success' })).toBe(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(1);
  });

  it('rejects a bad file with every problem and keeps the previous set', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    await write('b.yaml', 'kind: Route\nname: b\nmatch:\n  pathPrefix: b\nretries: 99\nservice: x\n');
    await write('c.yaml', 'kind: Route\nname: a\nmatch:\n  pathPrefix: /c\nservice: x\n');

    const error = await harness.store.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      { file: join(harness.dir, 'b.yaml'), path: '/match/pathPrefix', message: "must start with '/' (line 4)" },
      { file: join(harness.dir, 'b.yaml'), path: '/retries', message: 'must be an integer from 0 to 10 (line 5)' },
      { file: join(harness.dir, 'c.yaml'), path: '/name', message: `route name 'a' is already used in ${join(harness.dir, 'a.yaml')}` },
    ]);
    expect((error as ConfigError).code).toBe('DM_ERR_CONFIG_INVALID');
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'failure' })).toBe(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(0);
    const [logLine] = reloadLogs('failure');
    expect(logLine?.['problems']).toEqual(problems);
  });

  it('rejects a YAML syntax error naming the file and line', async () => {
    await write('a.yaml', 'kind: Route\nname: a\nmatch: {pathPrefix: /a\nservice: x\n');
    await expect(harness.store.load()).rejects.toThrow(/a\.yaml: \/: YAML syntax error at line 4/);
  });

  it('rejects a missing folder', async () => {
    await rm(harness.dir, { recursive: true });
    await expect(harness.store.load()).rejects.toThrow(/cannot read folder: ENOENT/);
  });
});

describe('RouteStore.watch', () => {
  it('picks up a valid change without a restart', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    harness.store.watch();
    await write('b.yaml', ROUTE_B);
    await eventually(() => expect(names(harness.changes.at(-1))).toEqual(['a', 'b']));
    expect(names(harness.store.list())).toEqual(['a', 'b']);
  });

  it('logs and counts a rejected change while the previous set keeps serving', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    harness.store.watch();
    await write('a.yaml', `${ROUTE_A}bogus: true\n`);
    await eventually(() => expect(reloadLogs('failure')).toHaveLength(1));
    expect(reloadLogs('failure')[0]?.['problems']).toEqual([
      { file: join(harness.dir, 'a.yaml'), path: '/bogus', message: "unknown key 'bogus' (line 6)" },
    ]);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'failure' })).toBe(1);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);

    // Fixing the file is accepted again; the routes are the same, so onChange is not called.
    await write('a.yaml', `# fixed\n${ROUTE_A}`);
    await eventually(async () => expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(1));
    expect(harness.changes).toHaveLength(1);
  });
});

describe('RouteStore.put', () => {
  const body = { match: { pathPrefix: '/new' }, upstreams: [{ url: 'http://127.0.0.1:4000', weight: 2 }], retries: 1 };

  it('creates routes/<name>.yaml atomically and serves the route at once', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    expect(await harness.store.put('new-route', body)).toEqual({ ok: true, created: true });
    expect(await filesInDir()).toEqual(['a.yaml', 'new-route.yaml']);
    expect(parse(await readFile(join(harness.dir, 'new-route.yaml'), 'utf8'))).toEqual({ kind: 'Route', name: 'new-route', ...body });
    expect(names(harness.store.list())).toEqual(['a', 'new-route']);
    expect(names(harness.changes.at(-1))).toEqual(['a', 'new-route']);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'api', result: 'success' })).toBe(1);
  });

  it('replaces only its own document in a file holding several routes', async () => {
    const text = `# two routes\n${ROUTE_A}---\n# b is static\n${ROUTE_B}`;
    await write('both.yaml', text);
    await harness.store.load();
    expect(await harness.store.put('a', { name: 'a', match: { pathPrefix: '/a2' }, service: 'svc-a' })).toEqual({ ok: true, created: false });
    const written = await readFile(join(harness.dir, 'both.yaml'), 'utf8');
    expect(written.endsWith(`---\n# b is static\n${ROUTE_B}`)).toBe(true);
    expect(written.startsWith('# two routes\n')).toBe(true);
    expect(harness.store.get('a')?.match.pathPrefix).toBe('/a2');
    expect(await filesInDir()).toEqual(['both.yaml']);
  });

  it('does not call onChange twice when the watcher sees the store its own write', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    harness.store.watch();
    await harness.store.put('new-route', body);
    // A later outside change is picked up; by then the watcher has also seen the store's write.
    await write('b.yaml', ROUTE_B);
    await eventually(() => expect(names(harness.changes.at(-1))).toEqual(['a', 'b', 'new-route']));
    expect(harness.changes.map(names)).toEqual([['a'], ['a', 'new-route'], ['a', 'b', 'new-route']]);
  });

  const rejected: Array<{ name: string; route: string; body: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'a body whose name differs from the URL is a problem at /name',
      route: 'x',
      body: { ...body, name: 'y' },
      problems: [{ path: '/name', message: "must be 'x' as in the URL, or be left out" }],
    },
    {
      name: 'a body with an unknown key and a bad type reports both',
      route: 'x',
      body: { ...body, retries: 'many', colour: 'red' },
      problems: [
        { path: '/colour', message: "unknown key 'colour'" },
        { path: '/retries', message: 'must be an integer from 0 to 10' },
      ],
    },
    {
      name: 'a body that is not an object is refused',
      route: 'x',
      body: 'route',
      problems: [{ path: '', message: 'must be a mapping (JSON object) describing the route' }],
    },
    {
      name: 'a name that is not a DNS label is refused before any file is touched',
      route: '../evil',
      body,
      problems: [{ path: '/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
    {
      name: 'a route whose match is identical to another route is refused',
      route: 'x',
      body: { match: { pathPrefix: '/a/' }, service: 'other' },
      problems: [{ path: '/match', message: expect.stringContaining("has the same match as route 'a'") }],
    },
  ];

  it.each(rejected)('$name, and nothing changes', async ({ route, body: badBody, problems }) => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    const result = await harness.store.put(route, badBody);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(({ path, message }) => ({ path, message }))).toEqual(problems);
    expect(await filesInDir()).toEqual(['a.yaml']);
    expect(await readFile(join(harness.dir, 'a.yaml'), 'utf8')).toBe(ROUTE_A);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);
  });
});

describe('RouteStore.delete', () => {
  it('removes the file that held only that route', async () => {
    await write('a.yaml', ROUTE_A);
    await write('b.yaml', ROUTE_B);
    await harness.store.load();
    expect(await harness.store.delete('b')).toBe(true);
    expect(await filesInDir()).toEqual(['a.yaml']);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(names(harness.changes.at(-1))).toEqual(['a']);
  });

  it('rewrites a file holding several routes without that document', async () => {
    await write('both.yaml', `${ROUTE_A}---\n${ROUTE_B}`);
    await harness.store.load();
    expect(await harness.store.delete('a')).toBe(true);
    expect(await readFile(join(harness.dir, 'both.yaml'), 'utf8')).toBe(`---\n${ROUTE_B}`);
    expect(names(harness.store.list())).toEqual(['b']);
  });

  it('answers false for a route that does not exist', async () => {
    await write('a.yaml', ROUTE_A);
    await harness.store.load();
    expect(await harness.store.delete('nope')).toBe(false);
    expect(harness.changes).toHaveLength(1);
  });
});
