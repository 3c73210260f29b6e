// Autoscaling on the process runtime with the demo app, through the built gateway: a load step
// scales 1 -> N and latency stays under target, the replicas return to the minimum after the
// load stops, and a service scaled to zero serves every held request once a replica is up.
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { DEMO_APP, gatewayLog, stopGateway, type Cleanups } from '../../helpers/rollout-gateway.js';
import { describeFailures, sendRequests, startTraffic } from '../../helpers/rollout-traffic.js';
import type { ServiceView } from '../../../src/admin/admin-service.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const ROUTE = 'kind: Route\nname: app\nmatch: {pathPrefix: /}\nservice: app\n';

function serviceYaml(autoscale: Readonly<Record<string, unknown>>, replicas = 1): string {
  return `kind: Service
name: app
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: ${replicas}
env: {DEMO_LATENCY_MS: "40"}
health: {path: /healthz, intervalMs: 100, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 3}
stopGraceMs: 2000
drainTimeoutMs: 3000
autoscale: ${JSON.stringify(autoscale)}
`;
}

/** Fast windows so a test sees whole scaling cycles in seconds (the defaults are minutes). */
const FAST = {
  syncIntervalMs: 250,
  stableWindowMs: 3000,
  panic: { windowMs: 1000, threshold: 2 },
  scaleUp: { stabilizationWindowMs: 0 },
  scaleDown: { stabilizationWindowMs: 3000, policies: [{ type: 'percent', value: 100, periodMs: 1000 }] },
};

async function start(autoscale: Readonly<Record<string, unknown>>, replicas = 1): Promise<RunningCli> {
  const dir = configDir({ 'routes/app.yaml': ROUTE, 'policies/app.yaml': serviceYaml(autoscale, replicas) });
  const cli = await startCli(dir);
  cleanups.push(() => stopGateway(cli));
  return cli;
}

async function service(cli: RunningCli): Promise<ServiceView> {
  const res = await request(`${cli.adminUrl}/v1/services/app`);
  return (await res.body.json()) as ServiceView;
}

async function events(cli: RunningCli): Promise<readonly TimelineEvent[]> {
  const res = await request(`${cli.adminUrl}/v1/events?limit=1000`);
  return ((await res.body.json()) as { events: TimelineEvent[] }).events;
}

async function metric(cli: RunningCli, prefix: string): Promise<string[]> {
  const res = await request(`${cli.adminUrl}/metrics`);
  return (await res.body.text()).split('\n').filter((line) => line.startsWith(prefix));
}

function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
}

describe('autoscaling on the process runtime', () => {
  it('scales 1 -> N on a load step (concurrency target), keeps p95 under its target, and returns to the minimum after the load stops', async () => {
    const cli = await start({ minReplicas: 1, maxReplicas: 6, targetConcurrency: 2, targetLatencyP95Ms: 300, ...FAST });
    await eventually(async () => expect((await service(cli)).readyReplicas).toBe(1), { timeoutMs: 15_000 });

    // 8 clients in a closed loop at 40 ms per answer: concurrency 8, so 8 / 2 = 4 replicas.
    const stepAtMs = Date.now();
    const traffic = startTraffic(cli.proxyUrl, { concurrency: 8, maxMs: 30_000, maxRequests: 20_000, pauseMs: 0 });
    await eventually(async () => expect((await service(cli)).readyReplicas).toBeGreaterThanOrEqual(4), { timeoutMs: 15_000, intervalMs: 100 });
    const scaledAtMs = Date.now();
    // Latency in the last stretch of the step, measured by the clients.
    await waitFor(() => traffic.answers().filter((a) => a.startedAtMs > scaledAtMs).length >= 200, 'answers after scaling', { timeoutMs: 10_000 });
    const load = await traffic.stop();
    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    const after = load.answers.filter((a) => a.startedAtMs > scaledAtMs).map((a) => a.endedAtMs - a.startedAtMs);
    expect(p95(after)).toBeLessThan(300);

    const timeline = await events(cli);
    const ups = timeline.filter((e) => e.type === 'autoscale.scaled' && e.data?.['direction'] === 'up');
    expect(ups.length).toBeGreaterThanOrEqual(1);
    // The first scale-up names its inputs and reason.
    expect(ups[0]?.data).toMatchObject({ from: 1 });
    expect(ups[0]?.message).toMatch(/concurrency/);
    expect((ups[0]?.atMs ?? Infinity) - stepAtMs).toBeLessThan(5_000);
    expect((await metric(cli, 'dockmaster_autoscale_decisions_total{service="app",direction="up"}')).length).toBe(1);

    // Load gone: back to minReplicas once the scale-down window has passed, not before.
    const stoppedAtMs = Date.now();
    await eventually(async () => expect((await service(cli)).desiredReplicas).toBe(1), { timeoutMs: 20_000, intervalMs: 100 });
    const down = (await events(cli)).filter((e) => e.type === 'autoscale.scaled' && e.data?.['direction'] === 'down' && e.atMs >= stoppedAtMs);
    expect(down.length).toBeGreaterThanOrEqual(1);
    expect((down[0]?.atMs ?? 0) - stoppedAtMs).toBeGreaterThanOrEqual(2_000);
    await eventually(async () => expect((await service(cli)).replicas?.filter((r) => r.state !== 'draining')).toHaveLength(1), { timeoutMs: 15_000 });
  }, 90_000);

  it('scales an idle service to zero, then holds the requests that arrive and serves every one with 200 once a replica is up', async () => {
    const cli = await start({ minReplicas: 0, maxReplicas: 3, targetConcurrency: 4, scaleToZero: { idleMs: 1500 }, hold: { maxQueue: 50, holdTimeoutMs: 20_000 }, ...FAST });
    await eventually(async () => expect((await service(cli)).readyReplicas).toBe(1), { timeoutMs: 15_000 });
    // Idle for idleMs (and the scale-down window): zero replicas.
    await eventually(async () => expect((await service(cli)).replicas ?? []).toHaveLength(0), { timeoutMs: 20_000, intervalMs: 100 });

    const held = await sendRequests(cli.proxyUrl, 12, { concurrency: 12, maxMs: 25_000 });
    expect(held.failures, `${describeFailures(held.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(held.answers).toHaveLength(12);
    expect((await service(cli)).readyReplicas).toBeGreaterThanOrEqual(1);
    expect(await metric(cli, 'dockmaster_proxy_held_requests_total{service="app",result="served"}')).toEqual([expect.stringMatching(/ 12$/)]);
    expect(await metric(cli, 'dockmaster_autoscale_cold_start_seconds_count{service="app"}')).toEqual([expect.stringMatching(/ 1$/)]);
    const timeline = await events(cli);
    expect(timeline.some((e) => e.type === 'autoscale.scaled' && e.data?.['to'] === 0)).toBe(true);
    expect(timeline.some((e) => e.type === 'autoscale.scaled' && e.data?.['from'] === 0 && (e.data?.['heldRequests'] as number) > 0)).toBe(true);
  }, 90_000);
});
