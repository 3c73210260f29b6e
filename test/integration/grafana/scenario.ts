// A gateway run that gives every Grafana panel something to show: `dockmaster serve` (the built
// CLI) with a Consul provider (the Consul HTTP API double, not Consul), a flaky canaried service,
// an autoscaled one, one at zero replicas, one that crashes, and a Consul service with an
// instance that resets every connection; then traffic, a canary rollout with analysis, a
// scale-up, a cold start, a rejected config reload, a restart and passive-health ejections, each
// awaited through the admin API.
// Test helper; I/O (child processes, HTTP, files). Loopback only; every loop is bounded.
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import type { ServiceView } from '../../../src/admin/admin-service.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { ConsulDouble } from '../../helpers/consul-double.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { DEMO_APP, command, gatewayLog, stopGateway, waitPhase } from '../../helpers/rollout-gateway.js';
import { describeFailures, startTraffic, type RunningTraffic } from '../../helpers/rollout-traffic.js';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';

/** The canaried service: revision 1 answers 20% 500s (so its endpoints get ejected, the route
 * ejecting on 5xx), revision 2 answers none (so its canary analysis passes). */
export const CANARY = 'demo';
export const AUTOSCALED = 'app';
export const SCALED_TO_ZERO = 'zero';
export const CRASHING = 'crashy';
/** Served from the Consul double: one live instance and one that resets every connection. It
 * keeps failing: ejected, it passes the TCP return check and fails again, so upstream errors and
 * retries go on for the whole run (a closed port would be ejected once and for good). */
export const EXTERNAL = 'external';
const HELD_REQUESTS = 4;
const ANALYSIS_VERDICTS_BEFORE_PROMOTE = 3;

const HEALTH = '{path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 3}';
/** Fast autoscaling windows, as in test/integration/autoscale: whole decisions in seconds. */
const FAST_AUTOSCALE = {
  syncIntervalMs: 250,
  stableWindowMs: 3000,
  panic: { windowMs: 1000, threshold: 2 },
  scaleUp: { stabilizationWindowMs: 0 },
  scaleDown: { stabilizationWindowMs: 3000, policies: [{ type: 'percent', value: 100, periodMs: 1000 }] },
};

function processService(name: string, fields: Readonly<Record<string, unknown>>): string {
  const lines = [
    'kind: Service',
    `name: ${name}`,
    'runtime:',
    '  type: process',
    `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]`,
    `health: ${HEALTH}`,
    'stopGraceMs: 2000',
    'drainTimeoutMs: 3000',
    ...Object.entries(fields).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function canaryYaml(version: string, errorRate: string): string {
  return processService(CANARY, {
    replicas: 2,
    version,
    env: { DEMO_ERROR_RATE: errorRate },
    deploy: {
      strategy: 'canary',
      canary: { steps: [{ setWeight: 50 }, { pause: {} }], analysis: { intervalMs: 1000, minRequests: 5, successRate: 0.9, failureLimit: 1 } },
    },
  });
}

function route(name: string, extra = ''): string {
  return `kind: Route\nname: ${name}\nmatch: {pathPrefix: /${name}}\nservice: ${name}\n${extra}`;
}

type Cleanup = () => Promise<void> | void;

/** Starts the double, a live upstream and the gateway; `run` then drives the events. */
export class ScenarioGateway {
  readonly cli: RunningCli;
  private readonly dir: string;
  private readonly cleanups: Cleanup[];

  private constructor(cli: RunningCli, dir: string, cleanups: Cleanup[]) {
    this.cli = cli;
    this.dir = dir;
    this.cleanups = cleanups;
  }

  static async start(): Promise<ScenarioGateway> {
    const cleanups: Cleanup[] = [];
    try {
      const double = await ConsulDouble.start({ jitter: false });
      cleanups.push(() => double.close());
      const live: RunningUpstream = await startUpstream((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"upstream":"live"}');
      });
      cleanups.push(() => live.close());
      const resetting: RunningUpstream = await startUpstream((req) => req.socket.destroy());
      cleanups.push(() => resetting.close());
      double.registerService({ name: EXTERNAL, id: `${EXTERNAL}-live`, address: '127.0.0.1', port: live.port });
      double.registerService({ name: EXTERNAL, id: `${EXTERNAL}-resetting`, address: '127.0.0.1', port: resetting.port });

      const dir = configDir({
        'dockmaster.yaml': [
          'kind: Gateway',
          'providers:',
          '  consul:',
          `    address: ${double.address}`,
          '    waitMs: 1000',
          'passiveHealth: {consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 3000, maxEjectionPercent: 50}',
          '',
        ].join('\n'),
        [`routes/${CANARY}.yaml`]: route(CANARY, 'ejectOn5xx: true\n'),
        [`routes/${AUTOSCALED}.yaml`]: route(AUTOSCALED),
        [`routes/${SCALED_TO_ZERO}.yaml`]: route(SCALED_TO_ZERO),
        [`routes/${EXTERNAL}.yaml`]: route(EXTERNAL, 'retries: 2\ntimeoutMs: 5000\n'),
        [`policies/${CANARY}.yaml`]: canaryYaml('1', '0.2'),
        [`policies/${AUTOSCALED}.yaml`]: processService(AUTOSCALED, {
          replicas: 1,
          env: { DEMO_LATENCY_MS: '40' },
          autoscale: { minReplicas: 1, maxReplicas: 4, targetConcurrency: 2, ...FAST_AUTOSCALE },
        }),
        [`policies/${SCALED_TO_ZERO}.yaml`]: processService(SCALED_TO_ZERO, {
          replicas: 0,
          autoscale: { minReplicas: 0, maxReplicas: 1, targetConcurrency: 4, scaleToZero: { idleMs: 30_000 }, hold: { maxQueue: 20, holdTimeoutMs: 20_000 }, ...FAST_AUTOSCALE },
        }),
        // Exits a second after it starts: the controller replaces it (with a growing backoff).
        [`policies/${CRASHING}.yaml`]: processService(CRASHING, { replicas: 1, env: { DEMO_EXIT_AFTER_MS: '1000' } }),
      });
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const cli = await startCli(dir, ['--drain-timeout-ms', '2000']);
      cleanups.push(() => stopGateway(cli));
      if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at start: ${cli.stderr()}\n${cli.stdout().slice(-2000)}`);
      return new ScenarioGateway(cli, dir, cleanups);
    } catch (error) {
      await runCleanups(cleanups);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await runCleanups(this.cleanups);
  }

  /**
   * Drives every event the dashboards show and waits until the gateway reports each one; the
   * traffic stops at the end. Returns the canaried service's two revisions.
   */
  async run(): Promise<readonly [string, string]> {
    const cli = this.cli;
    await eventually(async () => {
      expect((await this.service(CANARY)).readyReplicas, `${CANARY} ready`).toBe(2);
      expect((await this.service(AUTOSCALED)).readyReplicas, `${AUTOSCALED} ready`).toBe(1);
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const firstRevision = (await this.service(CANARY)).stableRevision ?? '';

    const loops: RunningTraffic[] = [];
    const traffic = (path: string, concurrency: number, pauseMs: number, maxMs: number): RunningTraffic => {
      const loop = startTraffic(cli.proxyUrl, { path, concurrency, pauseMs, maxMs, maxRequests: 50_000 });
      loops.push(loop);
      return loop;
    };
    try {
      const canaryLoad = traffic(`/${CANARY}`, 2, 5, 50_000);
      traffic(`/${EXTERNAL}`, 1, 10, 50_000);
      // Eight clients at 40 ms an answer: concurrency 8 against a target of 2 per replica.
      const autoscaleLoad = traffic(`/${AUTOSCALED}`, 8, 0, 30_000);
      // Held at zero replicas until the autoscaler starts one: a cold start.
      const held = startTraffic(cli.proxyUrl, { path: `/${SCALED_TO_ZERO}`, concurrency: HELD_REQUESTS, maxRequests: HELD_REQUESTS, maxMs: 25_000, pauseMs: 0 }).finished();
      // A route file the route store rejects: a failed reload; the previous routes keep serving.
      const badRoute = join(this.dir, 'routes/zz-rejected.yaml');
      writeFileSync(badRoute, 'kind: Route\nname: rejected\n');

      await waitFor(() => canaryLoad.count() >= 100, `traffic to /${CANARY}`, { timeoutMs: 10_000 });
      writeFileSync(join(this.dir, `policies/${CANARY}.yaml`), canaryYaml('2', '0'));
      const secondRevision = await eventually(async () => {
        const revision = (await this.service(CANARY)).revision ?? '';
        expect(revision, 'the spec revision after the policy file changed').not.toBe(firstRevision);
        return revision;
      }, { timeoutMs: 10_000, intervalMs: 50 });
      await eventually(async () => {
        const verdicts = (await this.events(CANARY)).filter((e) => e.type === 'rollout.analysis');
        expect(verdicts.length, JSON.stringify(verdicts.map((e) => e.message))).toBeGreaterThanOrEqual(ANALYSIS_VERDICTS_BEFORE_PROMOTE);
        expect(verdicts.every((e) => e.data?.['verdict'] === 'pass'), JSON.stringify(verdicts.map((e) => e.message))).toBe(true);
      }, { timeoutMs: 15_000, intervalMs: 100 });
      const promoted = await command(cli, 'promote');
      expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
      await waitPhase(cli, `${CANARY}#1`, 'Succeeded', 15_000);

      await eventually(async () => expect((await this.service(AUTOSCALED)).desiredReplicas).toBeGreaterThanOrEqual(3), { timeoutMs: 15_000, intervalMs: 100 });
      const autoscaled = await autoscaleLoad.stop();
      expect(autoscaled.failures, describeFailures(autoscaled.failures)).toEqual([]);

      const heldReport = await held;
      expect(heldReport.failures, describeFailures(heldReport.failures)).toEqual([]);
      expect(heldReport.answers).toHaveLength(HELD_REQUESTS);

      await eventually(async () => {
        const text = await this.metricsText();
        expect(sample(text, 'dockmaster_config_reloads_total', { source: 'file', result: 'failure' }), 'rejected reloads').toBeGreaterThanOrEqual(1);
        expect(sample(text, 'dockmaster_replica_restarts_total', { service: CRASHING }), 'restarts').toBeGreaterThanOrEqual(1);
        expect(sample(text, 'dockmaster_endpoint_ejections_total', { pool: `service:${CANARY}` }), `ejections in ${CANARY}`).toBeGreaterThanOrEqual(1);
        expect(sample(text, 'dockmaster_proxy_upstream_errors_total', { service: EXTERNAL, kind: 'reset' }), 'reset upstream attempts').toBeGreaterThanOrEqual(1);
        expect(sample(text, 'dockmaster_proxy_retries_total', { service: EXTERNAL, reason: 'reset' }), 'retries').toBeGreaterThanOrEqual(1);
        expect(sample(text, 'dockmaster_registry_provider_up', { provider: 'consul' }), 'the Consul provider').toBe(1);
      }, { timeoutMs: 15_000, intervalMs: 200 });
      unlinkSync(badRoute);
      return [firstRevision, secondRevision];
    } catch (error) {
      if (error instanceof Error) error.message += `\n${gatewayLog(cli, 40)}`;
      throw error;
    } finally {
      await Promise.all(loops.map((loop) => loop.stop()));
    }
  }

  private async service(name: string): Promise<ServiceView> {
    const res = await request(`${this.cli.adminUrl}/v1/services/${name}`);
    const body = (await res.body.json()) as ServiceView;
    expect(res.statusCode, `GET /v1/services/${name}`).toBe(200);
    return body;
  }

  private async events(service: string): Promise<readonly TimelineEvent[]> {
    const res = await request(`${this.cli.adminUrl}/v1/events?service=${service}&limit=1000`);
    return ((await res.body.json()) as { events: TimelineEvent[] }).events;
  }

  private async metricsText(): Promise<string> {
    const res = await request(`${this.cli.adminUrl}/metrics`);
    return res.body.text();
  }
}

/** The value of one sample of the Prometheus text format, or undefined when there is none. */
export function sample(text: string, name: string, labels: Readonly<Record<string, string>>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}
