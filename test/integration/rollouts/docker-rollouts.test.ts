// Rollouts of a service of Docker replicas through the real gateway (the built CLI with
// `--runtime docker`): rolling 4 -> 4 and blue-green under continuous load with no failed request
// and nothing of the old revision left behind, and a gateway restarted in the middle of a paused
// canary that adopts its containers (no duplicates), keeps the rollout where it was and promotes
// it. Containers are counted through the Docker API by dockmaster's labels. Integration: real
// Docker, host networking, traffic to 127.0.0.1 only. The gateway puts no test-run label on its
// containers, so each test uses a fresh service name and every container labelled
// dockmaster.service=<that name> is removed afterwards (also when a test fails).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { DEMO_IMAGE, ensureDemoImage, skipWithoutDocker } from '../../helpers/docker.js';
import { eventually } from '../../helpers/eventually.js';
import { loadAdvances, startLoad, type LoadResult, type RunningLoad } from '../../helpers/load.js';
import type { ServiceView } from '../../../src/admin/admin-service.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';

const skip = await skipWithoutDocker('rollouts on the Docker runtime');

const docker = new Dockerode();
const ROLLOUT_WAIT_MS = 30_000;
/** Concurrent request loops on the proxy while a rollout runs. */
const LOAD_LOOPS = 3;

/** Everything a test started, undone in afterAll even when the test failed half-way. */
const usedNames: string[] = [];
const gateways: RunningCli[] = [];
const dirs: string[] = [];

if (!skip) {
  beforeAll(async () => {
    await ensureDemoImage();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((cli) => stopGateway(cli)));
    await Promise.all(usedNames.map((name) => removeServiceContainers(name)));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);
}

interface ServiceOptions {
  readonly replicas: number;
  /** The `deploy:` section, written as JSON (a YAML flow mapping). */
  readonly deploy: Readonly<Record<string, unknown>>;
}

function newServiceName(): string {
  const name = `drt-${randomBytes(4).toString('hex')}`;
  usedNames.push(name);
  return name;
}

function serviceYaml(name: string, options: ServiceOptions): string {
  return `kind: Service
name: ${name}
runtime: {type: docker, image: ${DEMO_IMAGE}, network: host, pull: never}
replicas: ${options.replicas}
version: "1"
env: {DEMO_LATENCY_MS: "0"}
health: {path: /healthz, intervalMs: 1000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3}
stopGraceMs: 2000
drainTimeoutMs: 3000
deploy: ${JSON.stringify(options.deploy)}
`;
}

/** No retries: a request sent to a replica that is leaving would fail visibly instead of being
 * retried on another one, so zero failures means the drain order itself held. */
function routeYaml(name: string): string {
  return `kind: Route\nname: ${name}\nmatch: {pathPrefix: /}\nservice: ${name}\ntimeoutMs: 5000\nretries: 0\n`;
}

function exitedNote(cli: RunningCli): string | undefined {
  const { child } = cli;
  if (child.exitCode === null && child.signalCode === null) return undefined;
  return `the gateway exited (${child.exitCode ?? child.signalCode}):\n${cli.stderr().slice(-2000)}\n${cli.stdout().slice(-2000)}`;
}

/** Starts the gateway on `dir` with the Docker runtime and waits until its admin API answers. */
async function startGateway(dir: string): Promise<RunningCli> {
  const cli = await startCli(dir, ['--runtime', 'docker', '--drain-timeout-ms', '2000']);
  gateways.push(cli);
  const up = await eventually(
    async () => {
      if (exitedNote(cli) !== undefined) return false;
      const res = await request(`${cli.adminUrl}/healthz`);
      await res.body.dump();
      return true;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  if (!up) throw new Error(exitedNote(cli));
  return cli;
}

/** SIGTERM, then the exit code (SIGKILL and 'timeout' after 15 s); nothing when already exited. */
async function stopGateway(cli: RunningCli): Promise<number | string> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.exited;
  cli.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    cli.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 15_000);
    }),
  ]);
  clearTimeout(timer);
  if (result !== 'timeout') return result;
  cli.child.kill('SIGKILL');
  await cli.exited;
  return 'timeout';
}

async function containersOf(name: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`dockmaster.service=${name}`] } });
}

async function removeServiceContainers(name: string): Promise<void> {
  const rows = await containersOf(name).catch(() => []);
  await Promise.all(rows.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** The service's containers as the daemon lists them (stopped ones included): `revision state`
 * per container, sorted, e.g. `['abc running', 'abc running', 'def running']`. */
async function containerRows(name: string): Promise<string[]> {
  return (await containersOf(name)).map((c) => `${c.Labels['dockmaster.revision'] ?? '?'} ${c.State}`).sort();
}

function rows(counts: Readonly<Record<string, number>>): string[] {
  return Object.entries(counts)
    .flatMap(([revision, n]) => Array.from({ length: n }, () => `${revision} running`))
    .sort();
}

async function view(cli: RunningCli, name: string): Promise<ServiceView> {
  const exited = exitedNote(cli);
  if (exited !== undefined) throw new Error(exited);
  const res = await request(`${cli.adminUrl}/v1/services/${name}`);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /v1/services/${name}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as ServiceView;
}

async function events(cli: RunningCli, name: string): Promise<TimelineEvent[]> {
  const res = await request(`${cli.adminUrl}/v1/events?service=${name}&limit=1000`);
  return ((await res.body.json()) as { events: TimelineEvent[] }).events;
}

/** A config folder for a fresh service, the gateway on it, and every replica ready. */
async function serve(options: ServiceOptions): Promise<{ name: string; dir: string; cli: RunningCli; revision: string }> {
  const name = newServiceName();
  const dir = configDir({ [`routes/${name}.yaml`]: routeYaml(name), [`policies/${name}.yaml`]: serviceYaml(name, options) });
  dirs.push(dir);
  const cli = await startGateway(dir);
  const ready = await eventually(
    async () => {
      const now = await view(cli, name);
      expect(now.replicas?.filter((r) => r.state === 'ready'), `gateway log tail:\n${cli.stdout().slice(-1500)}`).toHaveLength(options.replicas);
      expect(now.stableRevision).toBe(now.revision);
      return now;
    },
    { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 },
  );
  const revision = ready.revision ?? '';
  expect(await containerRows(name)).toEqual(rows({ [revision]: options.replicas }));
  return { name, dir, cli, revision };
}

/** GET the document, set `version`, PUT it back (as `dockmaster deploy --version` does); returns
 * the revision the started rollout goes to. */
async function deployVersion(cli: RunningCli, name: string, version: string): Promise<string> {
  const before = await view(cli, name);
  const document = { ...((before.document ?? before.spec) as Record<string, unknown>), version };
  const res = await request(`${cli.adminUrl}/v1/services/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  const text = await res.body.text();
  expect(res.statusCode, text).toBe(200);
  const after = JSON.parse(text) as ServiceView;
  expect(after.revision).not.toBe(before.revision);
  return after.revision ?? '';
}

async function command(cli: RunningCli, name: string, what: 'promote' | 'abort' | 'pause' | 'resume'): Promise<void> {
  const res = await request(`${cli.adminUrl}/v1/services/${name}/rollout/${what}`, { method: 'POST' });
  const text = await res.body.text();
  expect(res.statusCode, text).toBe(200);
}

/** The version the demo app reports in each 200 answer. */
function versionOf(body: string): string {
  try {
    return String((JSON.parse(body) as { version?: unknown }).version);
  } catch {
    return '<not json>';
  }
}

/** LOAD_LOOPS bounded request loops on the proxy (loopback), each counting failures. */
function startLoads(cli: RunningCli, path: string): Array<RunningLoad<string>> {
  return Array.from({ length: LOAD_LOOPS }, () => startLoad(`${cli.proxyUrl}${path}`, { maxMs: 60_000, maxRequests: 100_000, pauseMs: 5 }, versionOf));
}

async function stopLoads(loads: ReadonlyArray<RunningLoad<string>>): Promise<{ done: number; failures: number; samples: string[]; byVersion: Map<string, number> }> {
  const results: Array<LoadResult<string>> = await Promise.all(loads.map((l) => l.stop()));
  const byVersion = new Map<string, number>();
  for (const r of results) for (const [k, n] of r.byKey) byVersion.set(k, (byVersion.get(k) ?? 0) + n);
  return {
    done: results.reduce((n, r) => n + r.done, 0),
    failures: results.reduce((n, r) => n + r.failures, 0),
    samples: results.flatMap((r) => r.samples),
    byVersion,
  };
}

/** Polls the gateway until stopped and records the extremes of what it reports: the fewest
 * ready replicas and the most active (not draining) ones. */
function watchReplicaCounts(cli: RunningCli, name: string): { stop(): Promise<{ minReady: number; maxActive: number; polls: number }> } {
  let minReady = Infinity;
  let maxActive = 0;
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const now = await view(cli, name).catch(() => undefined);
      if (now?.replicas !== undefined) {
        polls++;
        minReady = Math.min(minReady, now.replicas.filter((r) => r.state === 'ready').length);
        maxActive = Math.max(maxActive, now.replicas.filter((r) => r.state !== 'draining').length);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { minReady, maxActive, polls };
    },
  };
}

describe.skipIf(skip)('rollouts of Docker replicas under continuous load', () => {
  it('rolls 4 -> 4 (maxSurge 1, maxUnavailable 0) with no failed request, and leaves exactly 4 containers, all of the new revision', async () => {
    const { name, cli, revision: rev1 } = await serve({
      replicas: 4,
      deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 }, progressDeadlineMs: 60_000 },
    });
    const loads = startLoads(cli, '/rolling');
    let watch: ReturnType<typeof watchReplicaCounts> | undefined;
    try {
      await Promise.all(loads.map((l) => loadAdvances(l, 20)));
      watch = watchReplicaCounts(cli, name);
      const rev2 = await deployVersion(cli, name, '2');
      await eventually(
        async () => {
          const now = await view(cli, name);
          expect(now.rollout, `gateway log tail:\n${cli.stdout().slice(-1500)}`).toMatchObject({ toRevision: rev2, phase: 'Succeeded' });
          expect(now.stableRevision).toBe(rev2);
        },
        { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 },
      );
      const counts = await watch.stop();
      // The old containers drain and are removed; nothing of rev1 stays, nothing extra of rev2.
      await eventually(async () => expect(await containerRows(name)).toEqual(rows({ [rev2]: 4 })), { timeoutMs: 15_000, intervalMs: 100 });
      await Promise.all(loads.map((l) => loadAdvances(l, 20)));
      const result = await stopLoads(loads);
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect(result.byVersion.get('1') ?? 0).toBeGreaterThan(0);
      expect(result.byVersion.get('2') ?? 0).toBeGreaterThan(0);
      // Kubernetes' arithmetic: never fewer than replicas - maxUnavailable ready, never more than
      // replicas + maxSurge active.
      expect(counts.polls).toBeGreaterThan(5);
      expect(counts.minReady).toBeGreaterThanOrEqual(4);
      expect(counts.maxActive).toBeLessThanOrEqual(5);
      const replicas = (await view(cli, name)).replicas ?? [];
      expect(replicas.map((r) => `${r.revision} ${r.state}`)).toEqual(rows({ [rev2]: 4 }).map((r) => r.replace('running', 'ready')));
      expect(rev1).not.toBe(rev2);
    } finally {
      await watch?.stop();
      await stopLoads(loads);
    }
  }, 60_000);

  it('switches blue-green (autoPromote, scaleDownDelayMs 2000) with no failed request, ends Succeeded and removes the old containers', async () => {
    const { name, cli, revision: rev1 } = await serve({
      replicas: 3,
      deploy: { strategy: 'blue-green', blueGreen: { autoPromote: true, scaleDownDelayMs: 2_000 }, progressDeadlineMs: 60_000 },
    });
    const loads = startLoads(cli, '/blue-green');
    try {
      await Promise.all(loads.map((l) => loadAdvances(l, 20)));
      const rev2 = await deployVersion(cli, name, '2');
      // The full green set runs next to blue before the switch.
      await eventually(async () => expect(await containerRows(name)).toEqual(rows({ [rev1]: 3, [rev2]: 3 })), { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 });
      await eventually(
        async () => {
          const now = await view(cli, name);
          expect(now.rollout, `gateway log tail:\n${cli.stdout().slice(-1500)}`).toMatchObject({ toRevision: rev2, phase: 'Succeeded' });
          expect(now.stableRevision).toBe(rev2);
        },
        { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 },
      );
      await eventually(async () => expect(await containerRows(name)).toEqual(rows({ [rev2]: 3 })), { timeoutMs: 15_000, intervalMs: 100 });
      await Promise.all(loads.map((l) => loadAdvances(l, 20)));
      const result = await stopLoads(loads);
      expect(result.failures, `failed requests: ${result.samples.join(' | ')}`).toBe(0);
      expect(result.byVersion.get('1') ?? 0).toBeGreaterThan(0);
      expect(result.byVersion.get('2') ?? 0).toBeGreaterThan(0);
      expect([...result.byVersion.keys()].sort()).toEqual(['1', '2']);
    } finally {
      await stopLoads(loads);
    }
  }, 60_000);

  it('resumes a canary paused at 50% after a restart: adopts its containers without duplicates, stays paused at the same step, then promotes to exactly `replicas` new containers', async () => {
    const replicas = 3;
    const served = await serve({
      replicas,
      deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] }, progressDeadlineMs: 60_000 },
    });
    const { name, dir, revision: rev1 } = served;
    let cli = served.cli;
    const rev2 = await deployVersion(cli, name, '2');
    // ceil(3 x 50 / 100) = 2 canary replicas next to the 3 stable ones.
    const paused = {
      toRevision: rev2,
      fromRevision: rev1,
      phase: 'Paused',
      step: { index: 1, total: 2 },
      weights: [
        { revision: rev1, percent: 50 },
        { revision: rev2, percent: 50 },
      ].sort((a, b) => (a.revision < b.revision ? -1 : 1)),
    };
    const expectPaused = async (): Promise<void> => {
      const now = await view(cli, name);
      const rollout = now.rollout === undefined ? undefined : { ...now.rollout, weights: [...now.rollout.weights].sort((a, b) => (a.revision < b.revision ? -1 : 1)) };
      expect(rollout, `gateway log tail:\n${cli.stdout().slice(-1500)}`).toMatchObject(paused);
      expect((now.replicas ?? []).map((r) => `${r.revision} ${r.state}`).sort()).toEqual(rows({ [rev1]: 3, [rev2]: 2 }).map((r) => r.replace('running', 'ready')));
    };
    await eventually(expectPaused, { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 });
    const before = await containersOf(name);
    const idsBefore = before.map((c) => c.Id).sort();
    const canaryIds = before.filter((c) => c.Labels['dockmaster.revision'] === rev2).map((c) => c.Id);
    expect(await containerRows(name)).toEqual(rows({ [rev1]: 3, [rev2]: 2 }));
    const rolloutId = (await view(cli, name)).rollout?.id;

    expect(await stopGateway(cli)).toBe(0);
    // Docker replicas outlive the gateway: the driver leaves them running on stop.
    expect((await containersOf(name)).map((c) => c.Id).sort()).toEqual(idsBefore);
    expect(await containerRows(name)).toEqual(rows({ [rev1]: 3, [rev2]: 2 }));

    cli = await startGateway(dir);
    await eventually(expectPaused, { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 });
    expect((await view(cli, name)).rollout?.id).toBe(rolloutId);
    // The same five containers, adopted: none started, none stopped, also across a resync (5 s).
    const holdUntil = Date.now() + 5_500;
    do {
      expect((await containersOf(name)).map((c) => c.Id).sort()).toEqual(idsBefore);
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < holdUntil);
    await expectPaused();
    const afterRestart = await events(cli, name);
    expect(afterRestart.filter((e) => e.type === 'replica.adopted')).toHaveLength(5);
    expect(afterRestart.filter((e) => e.type === 'replica.started')).toHaveLength(0);
    expect(afterRestart.filter((e) => e.type === 'rollout.resumed')).toHaveLength(1);
    // Traffic splits over both revisions as before the restart.
    const versions = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const res = await request(`${cli.proxyUrl}/after-restart`);
      const text = await res.body.text();
      expect(res.statusCode, text).toBe(200);
      const v = versionOf(text);
      versions.set(v, (versions.get(v) ?? 0) + 1);
    }
    expect(Object.fromEntries(versions)).toEqual({ '1': 10, '2': 10 });

    await command(cli, name, 'promote');
    await eventually(
      async () => {
        const now = await view(cli, name);
        expect(now.rollout, `gateway log tail:\n${cli.stdout().slice(-1500)}`).toMatchObject({ id: rolloutId, toRevision: rev2, phase: 'Succeeded' });
        expect(now.stableRevision).toBe(rev2);
      },
      { timeoutMs: ROLLOUT_WAIT_MS, intervalMs: 100 },
    );
    await eventually(async () => expect(await containerRows(name)).toEqual(rows({ [rev2]: replicas })), { timeoutMs: 15_000, intervalMs: 100 });
    // The two adopted canary containers are kept (promote grows the canary, it does not restart it).
    expect((await containersOf(name)).map((c) => c.Id)).toEqual(expect.arrayContaining(canaryIds));
  }, 75_000);
});
