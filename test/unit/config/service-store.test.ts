// ServiceStore on a real temp folder: load, reject keeping the previous set, watch, and persist
// admin edits (put, delete, setReplicas keeping comments). Files only, no sockets; waits poll
// with a deadline.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ServiceStore, type ServiceStoreDeps } from '../../../src/config/service-store.js';
import { setYamlDocumentField } from '../../../src/config/yaml-document-set-in.js';
import { ConfigError } from '../../../src/errors.js';
import { DEFAULT_DEPLOY_POLICY } from '../../../src/model/deploy.js';
import { autoscalePolicyOf, deployPolicyOf, type ServiceSpec } from '../../../src/model/service.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { eventually } from '../../helpers/eventually.js';

const SERVICE_A = 'kind: Service\nname: a\nruntime:\n  type: process\n  command: [node, a.mjs]\n';
const SERVICE_B = 'kind: Service\nname: b\nruntime: {type: docker, image: "b:1"}\nreplicas: 2\n';
const POLICY_P = 'kind: Policy\nname: careful\ndeploy:\n  strategy: canary\n';

/** A commented service file, as a user writes it. */
const COMMENTED = `# The API service.
kind: Service
name: api   # referenced by routes/api.yaml

runtime:
  type: process
  command: [node, api.mjs]   # argv, no shell

# Three replicas by default.
replicas: 3  # scale rewrites this

health: {path: /healthz, intervalMs: 500}
`;

interface Harness {
  readonly dir: string;
  readonly store: ServiceStore;
  readonly metrics: Metrics;
  readonly logs: Array<Record<string, unknown>>;
  readonly changes: Array<readonly ServiceSpec[]>;
}

let harness: Harness;

function names(specs: readonly ServiceSpec[] | undefined): string[] {
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

async function read(name: string): Promise<string> {
  return readFile(join(harness.dir, name), 'utf8');
}

async function filesInDir(): Promise<string[]> {
  return (await readdir(harness.dir)).sort();
}

function createHarness(dir: string, extra: Partial<ServiceStoreDeps> = {}): Harness {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logs.push(JSON.parse(line)) } });
  const metrics = createMetrics(new Registry());
  const changes: Array<readonly ServiceSpec[]> = [];
  const store = new ServiceStore({
    dir,
    logger,
    metrics,
    onChange: (specs) => changes.push(specs),
    debounceMs: 20,
    pollIntervalMs: 200,
    ...extra,
  });
  return { dir, store, metrics, logs, changes };
}

beforeEach(async () => {
  harness = createHarness(await mkdtemp(join(tmpdir(), 'dockmaster-policies-')));
});

afterEach(async () => {
  await harness.store.close();
  await rm(harness.dir, { recursive: true, force: true });
});

describe('ServiceStore.load', () => {
  it('loads every service in file order with defaults, lists policies apart, and calls onChange once', async () => {
    await write('b.yaml', SERVICE_B);
    await write('a.yaml', `${SERVICE_A}---\n${POLICY_P}`);
    await harness.store.load();
    expect(names(harness.store.list())).toEqual(['a', 'b']);
    expect(harness.store.get('b')?.runtime).toEqual({ type: 'docker', image: 'b:1', network: 'host', pull: 'if-missing' });
    expect(harness.store.get('a')?.replicas).toBe(1);
    expect(harness.store.get('careful')).toBeUndefined();
    expect(harness.store.policies()).toEqual([{ kind: 'Policy', name: 'careful', deploy: { ...DEFAULT_DEPLOY_POLICY, strategy: 'canary' } }]);
    expect(harness.store.policy('careful')?.deploy?.strategy).toBe('canary');
    expect(harness.changes.map(names)).toEqual([['a', 'b']]);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'success' })).toBe(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(1);
    expect(reloadLogs('success')).toEqual([
      expect.objectContaining({ config: 'services', source: 'file', services: 2, documents: 3, changed: true, msg: 'services loaded' }),
    ]);
  });

  it('accepts an empty folder as no services', async () => {
    await harness.store.load();
    expect(harness.store.list()).toEqual([]);
    expect(harness.changes).toEqual([[]]);
  });

  it('rejects a bad set with every problem, file, path and line, and keeps the previous set', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    await write('b.yaml', 'kind: Service\nname: b\nruntime:\n  type: process\n  command: []\nenv:\n  PORT: "1"\nhealth:\n  healthyThreshold: 0\n');
    await write('c.yaml', 'kind: Service\nname: a\nruntime: {type: docker, image: x}\n');

    const error = await harness.store.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const b = join(harness.dir, 'b.yaml');
    expect(problems).toEqual([
      { file: b, path: '/health/healthyThreshold', message: 'must be an integer from 1 to 100 (line 9)' },
      { file: b, path: '/runtime/command', message: 'must list the program and its arguments, e.g. [node, app.mjs] (line 5)' },
      { file: b, path: '/env/PORT', message: 'is set by dockmaster (the port each replica listens on) and cannot be set here (line 7)' },
      { file: join(harness.dir, 'c.yaml'), path: '/name', message: `service name 'a' is already used in ${join(harness.dir, 'a.yaml')}` },
    ]);
    expect((error as ConfigError).code).toBe('DM_ERR_CONFIG_INVALID');
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'failure' })).toBe(1);
    expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(0);
    const [logLine] = reloadLogs('failure');
    expect(logLine).toEqual(expect.objectContaining({ config: 'services', problems }));
  });

  it('rejects a document of a kind the folder does not hold', async () => {
    await write('a.yaml', 'kind: Route\nname: a\nmatch: {pathPrefix: /}\nservice: a\n');
    await expect(harness.store.load()).rejects.toThrow(/a\.yaml: \/kind: line 1: unknown kind "Route" \(this folder holds Service, Policy\)/);
  });

  it('rejects a service whose runtime has no driver in this gateway', async () => {
    await harness.store.close();
    harness = createHarness(harness.dir, { runtimes: ['process'] });
    await write('a.yaml', SERVICE_A);
    await write('b.yaml', SERVICE_B);
    await expect(harness.store.load()).rejects.toThrow(
      `${join(harness.dir, 'b.yaml')}: /runtime/type: runtime 'docker' is not enabled in this gateway (enabled: process) (start dockmaster with --runtime docker)`,
    );
  });

  it('rejects a missing folder', async () => {
    await rm(harness.dir, { recursive: true });
    await expect(harness.store.load()).rejects.toThrow(/cannot read folder: ENOENT/);
  });
});

describe('ServiceStore.watch', () => {
  it('picks up a valid change without a restart', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    harness.store.watch();
    await write('b.yaml', SERVICE_B);
    await eventually(() => expect(names(harness.changes.at(-1))).toEqual(['a', 'b']));
    expect(harness.store.get('b')?.replicas).toBe(2);
  });

  it('logs and counts a rejected change while the previous set keeps serving', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    harness.store.watch();
    await write('a.yaml', `${SERVICE_A}replica: 3\n`);
    await eventually(() => expect(reloadLogs('failure')).toHaveLength(1));
    expect(reloadLogs('failure')[0]?.['problems']).toEqual([
      { file: join(harness.dir, 'a.yaml'), path: '/replica', message: "unknown key 'replica' (line 6)" },
    ]);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'file', result: 'failure' })).toBe(1);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);

    // Fixing the file is accepted again; the services are the same, so onChange is not called.
    await write('a.yaml', `# fixed\n${SERVICE_A}`);
    await eventually(async () => expect(await metricValue(harness.metrics, 'dockmaster_config_last_reload_success')).toBe(1));
    expect(harness.changes).toHaveLength(1);
  });

  it('does not call onChange when only a policy changed', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    harness.store.watch();
    await write('p.yaml', POLICY_P);
    await eventually(() => expect(harness.store.policies().map((p) => p.name)).toEqual(['careful']));
    expect(harness.changes).toHaveLength(1);
  });
});

describe('ServiceStore.put', () => {
  const body = { runtime: { type: 'process', command: ['node', 'new.mjs'] }, replicas: 2, env: { MODE: 'x' } };

  it('creates policies/<name>.yaml atomically and applies the service at once', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    expect(await harness.store.put('new-svc', body)).toEqual({ ok: true, created: true });
    expect(await filesInDir()).toEqual(['a.yaml', 'new-svc.yaml']);
    expect(parse(await read('new-svc.yaml'))).toEqual({ kind: 'Service', name: 'new-svc', ...body });
    expect(names(harness.store.list())).toEqual(['a', 'new-svc']);
    expect(names(harness.changes.at(-1))).toEqual(['a', 'new-svc']);
    expect(harness.store.get('new-svc')?.health.path).toBe('/healthz');
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'api', result: 'success' })).toBe(1);
  });

  it('replaces only its own document in a file that also holds a policy', async () => {
    const text = `# service and policy\n${SERVICE_A}---\n# the policy\n${POLICY_P}`;
    await write('a.yaml', text);
    await harness.store.load();
    expect(await harness.store.put('a', { ...body, kind: 'Service', name: 'a' })).toEqual({ ok: true, created: false });
    const written = await read('a.yaml');
    expect(written.startsWith('# service and policy\n')).toBe(true);
    expect(written.endsWith(`---\n# the policy\n${POLICY_P}`)).toBe(true);
    expect(harness.store.get('a')?.replicas).toBe(2);
    expect(harness.store.policies()).toHaveLength(1);
    expect(await filesInDir()).toEqual(['a.yaml']);
  });

  it('adds a service next to a policy of the same name instead of replacing the policy', async () => {
    await write('careful.yaml', POLICY_P);
    await harness.store.load();
    expect(await harness.store.put('careful', body)).toEqual({ ok: true, created: true });
    const written = await read('careful.yaml');
    expect(written.startsWith(`${POLICY_P}---\nkind: Service\nname: careful\n`)).toBe(true);
    expect(parseAllDocuments(written).map((doc) => doc.toJS() as unknown)).toEqual([parse(POLICY_P), { kind: 'Service', name: 'careful', ...body }]);
    expect(harness.store.policy('careful')).toBeDefined();
    expect(harness.store.get('careful')?.replicas).toBe(2);
  });

  const rejected: Array<{ name: string; service: string; body: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'a body whose name differs from the URL is a problem at /name',
      service: 'x',
      body: { ...body, name: 'y' },
      problems: [{ path: '/name', message: "must be 'x' as in the URL, or be left out" }],
    },
    {
      name: 'a body of another kind is a problem at /kind',
      service: 'x',
      body: { ...body, kind: 'Policy' },
      problems: [{ path: '/kind', message: "must be 'Service', or be left out" }],
    },
    {
      name: 'a body with an unknown key and a bad field reports both',
      service: 'x',
      body: { ...body, replicas: -1, colour: 'red' },
      problems: [
        { path: '/colour', message: "unknown key 'colour'" },
        { path: '/replicas', message: 'must be an integer from 0 to 1000' },
      ],
    },
    {
      name: 'a body setting PORT is a problem at /env/PORT',
      service: 'x',
      body: { ...body, env: { PORT: '80' } },
      problems: [{ path: '/env/PORT', message: 'is set by dockmaster (the port each replica listens on) and cannot be set here' }],
    },
    {
      name: 'a body that is not an object is refused',
      service: 'x',
      body: ['service'],
      problems: [{ path: '', message: 'must be a mapping (JSON object) describing the service' }],
    },
    {
      name: 'a name that is not a DNS label is refused before any file is touched',
      service: '../evil',
      body,
      problems: [{ path: '/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
  ];

  it.each(rejected)('$name, and nothing changes', async ({ service, body: badBody, problems }) => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    const result = await harness.store.put(service, badBody);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(({ path, message }) => ({ path, message }))).toEqual(problems);
    expect(await filesInDir()).toEqual(['a.yaml']);
    expect(await read('a.yaml')).toBe(SERVICE_A);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(harness.changes).toHaveLength(1);
  });
});

describe('ServiceStore.delete', () => {
  it('removes the file that held only that service', async () => {
    await write('a.yaml', SERVICE_A);
    await write('b.yaml', SERVICE_B);
    await harness.store.load();
    expect(await harness.store.delete('b')).toBe(true);
    expect(await filesInDir()).toEqual(['a.yaml']);
    expect(names(harness.store.list())).toEqual(['a']);
    expect(names(harness.changes.at(-1))).toEqual(['a']);
  });

  it('keeps the policy that shared its file', async () => {
    await write('a.yaml', `${SERVICE_A}---\n${POLICY_P}`);
    await harness.store.load();
    expect(await harness.store.delete('a')).toBe(true);
    expect(await read('a.yaml')).toBe(`---\n${POLICY_P}`);
    expect(harness.store.list()).toEqual([]);
    expect(harness.store.policies()).toHaveLength(1);
  });

  it('answers false for a service that does not exist, also when a policy has that name', async () => {
    await write('a.yaml', `${SERVICE_A}---\n${POLICY_P}`);
    await harness.store.load();
    expect(await harness.store.delete('nope')).toBe(false);
    expect(await harness.store.delete('careful')).toBe(false);
    expect(harness.changes).toHaveLength(1);
  });
});

const STRATEGIES = `kind: Service
name: rolling
runtime: {type: process, command: [node, r.mjs]}
deploy:
  rolling: {maxSurge: 1, maxUnavailable: 0, minReadyMs: 1000}
---
kind: Service
name: blue-green
runtime: {type: process, command: [node, b.mjs]}
deploy:
  strategy: blue-green
  blueGreen: {autoPromote: false, preview: {header: X-Preview, value: "on"}}
---
kind: Service
name: canary
runtime: {type: process, command: [node, c.mjs]}
version: 1.4.2
deploy:
  strategy: canary
  canary:
    steps: [{setWeight: 20}, {pause: {durationMs: 30000}}, {setWeight: 50}, {pause: {}}]
    analysis: {successRate: 0.99, latency: {maxMs: 500}}
`;

/** A service following the policy `careful`, and that policy, in two files. */
const REFERRING = 'kind: Service\nname: api\nruntime: {type: process, command: [node, api.mjs]}\ndeploy: {policy: careful}\n';
const CAREFUL_CANARY = 'kind: Policy\nname: careful\ndeploy:\n  strategy: canary\n  canary:\n    steps: [{setWeight: 10}, {pause: {}}]\n';

describe('ServiceStore: deploy policies', () => {
  it('loads a service of each strategy with its parameters and defaults, and its version', async () => {
    await write('s.yaml', STRATEGIES);
    await harness.store.load();
    const [rolling, blueGreen, canary] = harness.store.list().map(deployPolicyOf);
    expect(rolling).toEqual({ ...DEFAULT_DEPLOY_POLICY, rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 1000 } });
    expect(blueGreen?.strategy).toBe('blue-green');
    expect(blueGreen?.blueGreen).toEqual({ autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 30000, preview: { header: 'x-preview', value: 'on' } });
    expect(canary?.strategy).toBe('canary');
    expect(canary?.canary).toEqual({
      steps: [{ setWeight: 20 }, { pause: { durationMs: 30000 } }, { setWeight: 50 }, { pause: {} }],
      stickySessions: false,
      analysis: { intervalMs: 10000, minRequests: 50, failureLimit: 0, minSuccessRate: 0.99, latency: { percentile: 'p99', maxMs: 500 } },
    });
    expect(harness.store.get('canary')?.version).toBe('1.4.2');
  });

  it('rejects a bad deploy section with its path and line, and keeps the previous set', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    await write('b.yaml', 'kind: Service\nname: b\nruntime: {type: process, command: [x]}\ndeploy:\n  rolling:\n    maxSurge: 0\n    maxUnavailable: "0%"\n  canary:\n    steps: [{setWeight: 150}]\n');
    const error = await harness.store.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const b = join(harness.dir, 'b.yaml');
    expect((error as ConfigError).problems).toEqual([
      { file: b, path: '/deploy/rolling', message: 'maxSurge and maxUnavailable may not both be 0 (line 5)' },
      { file: b, path: '/deploy/canary/steps/0/setWeight', message: 'must be an integer from 0 to 100 (line 9)' },
    ]);
    expect(names(harness.store.list())).toEqual(['a']);
  });

  it('rejects a reference to a policy that does not exist, naming it at /deploy/policy', async () => {
    await write('api.yaml', REFERRING);
    await expect(harness.store.load()).rejects.toThrow(
      `${join(harness.dir, 'api.yaml')}: /deploy/policy: refers to policy 'careful', but no 'kind: Policy' document has that name (no deploy policies here)`,
    );
  });

  it('rejects a reference to a policy that has no deploy section', async () => {
    await write('api.yaml', REFERRING);
    await write('p.yaml', 'kind: Policy\nname: careful\nautoscale: {maxReplicas: 3, targetRps: 10}\n');
    await expect(harness.store.load()).rejects.toThrow("/deploy/policy: refers to policy 'careful', which has no 'deploy' section");
  });

  it('publishes a referring service with the named policy resolved, and keeps the reference in its document', async () => {
    await write('api.yaml', REFERRING);
    await write('p.yaml', CAREFUL_CANARY);
    await harness.store.load();
    const careful = harness.store.policy('careful')?.deploy;
    expect(careful?.canary.steps).toEqual([{ setWeight: 10 }, { pause: {} }]);
    expect(harness.store.get('api')?.deploy).toEqual(careful);
    expect(harness.store.list()[0]?.deploy).toEqual(careful);
    expect(harness.changes.at(-1)?.[0]?.deploy).toEqual(careful);
    expect(harness.store.document('api')?.deploy).toEqual({ policy: 'careful' });
  });

  it('re-publishes the services that refer to a policy when the policy is edited', async () => {
    await write('api.yaml', REFERRING);
    await write('b.yaml', SERVICE_B);
    await write('p.yaml', CAREFUL_CANARY);
    await harness.store.load();
    harness.store.watch();
    await write('p.yaml', 'kind: Policy\nname: careful\ndeploy:\n  strategy: blue-green\n  blueGreen: {preview: true}\n');
    await eventually(() => expect(harness.changes).toHaveLength(2));
    const [api, b] = harness.changes[1] ?? [];
    expect(api?.deploy?.strategy).toBe('blue-green');
    expect(api?.deploy?.blueGreen.preview).toEqual({ header: 'x-dockmaster-preview', value: '1' });
    expect(b?.deploy).toBeUndefined();
    expect(harness.store.get('api')?.deploy?.strategy).toBe('blue-green');
  });

  it('rejects removing a policy that a service still refers to; the resolved services keep serving', async () => {
    await write('api.yaml', REFERRING);
    await write('p.yaml', CAREFUL_CANARY);
    await harness.store.load();
    await rm(join(harness.dir, 'p.yaml'));
    await harness.store.reload();
    expect(reloadLogs('failure')[0]?.['problems']).toEqual([
      expect.objectContaining({ path: '/deploy/policy', message: expect.stringContaining("refers to policy 'careful'") }),
    ]);
    expect(harness.store.get('api')?.deploy?.strategy).toBe('canary');
    expect(harness.changes).toHaveLength(1);
  });

  it('accepts a PUT referring to an existing policy and refuses one referring to a missing policy', async () => {
    await write('p.yaml', CAREFUL_CANARY);
    await harness.store.load();
    const body = { runtime: { type: 'process', command: ['node', 'x.mjs'] } };
    expect(await harness.store.put('x', { ...body, deploy: { policy: 'careful' } })).toEqual({ ok: true, created: true });
    expect(harness.store.get('x')?.deploy?.strategy).toBe('canary');

    const missing = await harness.store.put('y', { ...body, deploy: { policy: 'nope' } });
    expect(missing.ok ? [] : missing.problems.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: '/deploy/policy', message: "refers to policy 'nope', but no 'kind: Policy' document has that name (deploy policies: careful)" },
    ]);
    expect(await filesInDir()).toEqual(['p.yaml', 'x.yaml']);
  });
});

/** A service with its own autoscale section, one following the policy `elastic`, and that policy. */
const AUTOSCALED = `kind: Service
name: own
runtime: {type: process, command: [node, own.mjs]}
replicas: 2           # the starting count
autoscale:
  maxReplicas: 6
  targetRps: 50
  scaleDown: {stabilizationWindowMs: 60000}
`;
const FOLLOWING = 'kind: Service\nname: api\nruntime: {type: process, command: [node, api.mjs]}\nautoscale: {policy: elastic}\n';
const ELASTIC = 'kind: Policy\nname: elastic\nautoscale:\n  minReplicas: 0\n  maxReplicas: 4\n  targetConcurrency: 8\n  scaleToZero: {idleMs: 120000}\n';

describe('ServiceStore: autoscale policies', () => {
  it('loads a service with its own autoscale section, defaults filled in, and one without as not autoscaled', async () => {
    await write('own.yaml', AUTOSCALED);
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    const own = harness.store.get('own');
    expect(own?.replicas).toBe(2);
    expect(own !== undefined && autoscalePolicyOf(own)).toMatchObject({
      minReplicas: 1,
      maxReplicas: 6,
      targetRps: 50,
      tolerance: 0.1,
      scaleUp: { stabilizationWindowMs: 0, selectPolicy: 'max' },
      scaleDown: { stabilizationWindowMs: 60000, policies: [{ type: 'percent', value: 100, periodMs: 15000 }], selectPolicy: 'max' },
    });
    const a = harness.store.get('a');
    expect(a !== undefined && autoscalePolicyOf(a)).toBeUndefined();
  });

  it('rejects a bad autoscale section with its path and line, and keeps the previous set', async () => {
    await write('a.yaml', SERVICE_A);
    await harness.store.load();
    await write('b.yaml', 'kind: Service\nname: b\nruntime: {type: process, command: [x]}\nautoscale:\n  minReplicas: 0\n  maxReplicas: 3\n  targetRps: 0\n');
    const error = await harness.store.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const b = join(harness.dir, 'b.yaml');
    expect((error as ConfigError).problems).toEqual([
      { file: b, path: '/autoscale/targetRps', message: 'must be a number greater than 0 and at most 1000000 (line 7)' },
      { file: b, path: '/autoscale/minReplicas', message: "0 needs 'scaleToZero: {idleMs: N}': how long a service must be idle before it drains to zero (line 5)" },
    ]);
    expect(names(harness.store.list())).toEqual(['a']);
  });

  it('publishes a referring service with the named policy resolved, and keeps the reference in its document', async () => {
    await write('api.yaml', FOLLOWING);
    await write('p.yaml', ELASTIC);
    await harness.store.load();
    const elastic = harness.store.policy('elastic')?.autoscale;
    expect(elastic).toMatchObject({ minReplicas: 0, maxReplicas: 4, targetConcurrency: 8, scaleToZero: { idleMs: 120000 } });
    expect(harness.store.get('api')?.autoscale).toEqual(elastic);
    expect(harness.changes.at(-1)?.[0]?.autoscale).toEqual(elastic);
    expect(harness.store.document('api')?.autoscale).toEqual({ policy: 'elastic' });
  });

  it('rejects a reference to a policy that does not exist, naming it at /autoscale/policy', async () => {
    await write('api.yaml', FOLLOWING);
    await write('p.yaml', POLICY_P);
    await expect(harness.store.load()).rejects.toThrow(
      `${join(harness.dir, 'api.yaml')}: /autoscale/policy: refers to policy 'elastic', but no 'kind: Policy' document has that name (no autoscale policies here)`,
    );
  });

  it('re-publishes the services that refer to a policy when its autoscale section is edited', async () => {
    await write('api.yaml', FOLLOWING);
    await write('p.yaml', ELASTIC);
    await harness.store.load();
    harness.store.watch();
    await write('p.yaml', ELASTIC.replace('maxReplicas: 4', 'maxReplicas: 9'));
    await eventually(() => expect(harness.changes).toHaveLength(2));
    expect(harness.changes[1]?.[0]?.autoscale?.maxReplicas).toBe(9);
    expect(harness.store.get('api')?.autoscale?.maxReplicas).toBe(9);
  });

  it('refuses a PUT referring to a missing autoscale policy, and writes nothing', async () => {
    await write('p.yaml', ELASTIC);
    await harness.store.load();
    const body = { runtime: { type: 'process', command: ['node', 'x.mjs'] } };
    expect(await harness.store.put('x', { ...body, autoscale: { policy: 'elastic' } })).toEqual({ ok: true, created: true });
    expect(harness.store.get('x')?.autoscale?.maxReplicas).toBe(4);
    const missing = await harness.store.put('y', { ...body, autoscale: { policy: 'nope' } });
    expect(missing.ok ? [] : missing.problems.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: '/autoscale/policy', message: "refers to policy 'nope', but no 'kind: Policy' document has that name (autoscale policies: elastic)" },
    ]);
    expect(await filesInDir()).toEqual(['p.yaml', 'x.yaml']);
  });

  it('rewrites only the starting count on setReplicas, keeping the autoscale section', async () => {
    await write('own.yaml', AUTOSCALED);
    await harness.store.load();
    expect(await harness.store.setReplicas('own', 3)).toEqual({ ok: true, created: false });
    expect(await read('own.yaml')).toBe(AUTOSCALED.replace('replicas: 2 ', 'replicas: 3 '));
    expect(harness.store.get('own')?.autoscale?.maxReplicas).toBe(6);
  });
});

describe('ServiceStore.setReplicas', () => {
  it('rewrites only the replica count, keeping every comment and the formatting', async () => {
    await write('api.yaml', COMMENTED);
    await harness.store.load();
    expect(await harness.store.setReplicas('api', 7)).toEqual({ ok: true, created: false });
    expect(await read('api.yaml')).toBe(COMMENTED.replace('replicas: 3  #', 'replicas: 7  #'));
    expect(harness.store.get('api')?.replicas).toBe(7);
    expect(harness.changes.at(-1)?.[0]?.replicas).toBe(7);
    expect(await metricValue(harness.metrics, 'dockmaster_config_reloads_total', { source: 'api', result: 'success' })).toBe(1);
  });

  it('adds the field when the document has none, keeping the comments', async () => {
    const text = `# A service on defaults.\n${SERVICE_A}# end of a\n`;
    await write('a.yaml', text);
    await harness.store.load();
    expect(await harness.store.setReplicas('a', 0)).toEqual({ ok: true, created: false });
    const written = await read('a.yaml');
    expect(parse(written)).toEqual({ ...parse(SERVICE_A), replicas: 0 });
    expect(written).toContain('# A service on defaults.\n');
    expect(written).toContain('# end of a');
    expect(harness.store.get('a')?.replicas).toBe(0);
  });

  it('changes only its own document in a file holding several', async () => {
    const other = 'kind: Service\nname: other # keep\nruntime: {type: process, command: [x]}\nreplicas: 3\n';
    await write('both.yaml', `${COMMENTED}---\n${other}`);
    await harness.store.load();
    await harness.store.setReplicas('other', 5);
    expect(await read('both.yaml')).toBe(`${COMMENTED}---\n${other.replace('replicas: 3', 'replicas: 5')}`);
    expect(harness.store.get('api')?.replicas).toBe(3);
    expect(harness.store.get('other')?.replicas).toBe(5);
  });

  it('refuses a count out of range and leaves the file alone', async () => {
    await write('api.yaml', COMMENTED);
    await harness.store.load();
    expect(await harness.store.setReplicas('api', 1001)).toEqual({
      ok: false,
      problems: [{ file: harness.dir, path: '/replicas', message: 'must be an integer from 0 to 1000' }],
    });
    expect(await read('api.yaml')).toBe(COMMENTED);
    expect(harness.changes).toHaveLength(1);
  });

  it('refuses an unknown service', async () => {
    await write('p.yaml', POLICY_P);
    await harness.store.load();
    expect(await harness.store.setReplicas('careful', 2)).toEqual({
      ok: false,
      problems: [{ file: harness.dir, path: '/name', message: "no service named 'careful'" }],
    });
  });

  it('refuses when the folder holds an invalid file, and writes nothing', async () => {
    await write('api.yaml', COMMENTED);
    await harness.store.load();
    await write('bad.yaml', 'kind: Service\nname: bad\n');
    const result = await harness.store.setReplicas('api', 4);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['/runtime']);
    expect(await read('api.yaml')).toBe(COMMENTED);
  });
});

describe('setYamlDocumentField', () => {
  const cases: Array<{ name: string; text: string; index: number; value: number; expected: string }> = [
    {
      name: 'a block value keeps its trailing comment',
      text: 'a: 1\nreplicas: 3 # three\n',
      index: 0,
      value: 4,
      expected: 'a: 1\nreplicas: 4 # three\n',
    },
    {
      name: 'a value inside a flow mapping keeps the flow style',
      text: '{name: a, replicas: 3}\n',
      index: 0,
      value: 12,
      expected: '{name: a, replicas: 12}\n',
    },
    {
      name: 'a later document changes alone',
      text: '# one\nreplicas: 1\n---\n# two\nreplicas: 2\n',
      index: 1,
      value: 9,
      expected: '# one\nreplicas: 1\n---\n# two\nreplicas: 9\n',
    },
    {
      name: 'a missing field is added at the end of its document, before the next one',
      text: '# one\nname: a # keep\n---\nname: b\n',
      index: 0,
      value: 2,
      expected: '# one\nname: a # keep\nreplicas: 2\n---\nname: b\n',
    },
    {
      name: 'a missing field in a later document keeps its marker and comments',
      text: 'name: a\n---\n# b\nname: b\n',
      index: 1,
      value: 2,
      expected: 'name: a\n---\n# b\nname: b\nreplicas: 2\n',
    },
  ];

  it.each(cases)('$name', ({ text, index, value, expected }) => {
    expect(setYamlDocumentField(text, index, ['replicas'], value)).toBe(expected);
  });

  it('throws RangeError for a missing document', () => {
    expect(() => setYamlDocumentField('a: 1\n', 1, ['replicas'], 1)).toThrow(RangeError);
  });
});
