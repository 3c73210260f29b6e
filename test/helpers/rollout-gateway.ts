// A gateway for rollout tests: `dockmaster serve` (the built CLI) on free loopback ports with one
// process-runtime demo service behind a catch-all route, and small typed calls to its admin API
// (service view, PUT of a changed document, rollout commands, rollback, revisions, events).
// Test helper; I/O (child process, HTTP).
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import { configDir, startCli, type RunningCli } from './cli.js';
import { eventually } from './eventually.js';
import { describeFailures, sendRequests } from './rollout-traffic.js';
import type { ServiceView } from '../../src/admin/admin-service.js';
import type { RevisionView, RolloutView } from '../../src/deploy/service-controller.js';
import type { TimelineEvent } from '../../src/observability/event-log.js';

export const DEMO_APP = resolve(import.meta.dirname, '../../src/demo/demo-app.mjs');
export const SERVICE = 'demo';
const ROUTE_YAML = `kind: Route\nname: ${SERVICE}\nmatch: {pathPrefix: /}\nservice: ${SERVICE}\n`;

export interface DemoServiceOptions {
  readonly replicas: number;
  /** The `deploy:` section, written as JSON (a YAML flow mapping). */
  readonly deploy: Readonly<Record<string, unknown>>;
  readonly version?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** The demo service's policy file: small health intervals, short stop grace and drain timeout. */
export function demoServiceYaml(options: DemoServiceOptions): string {
  return `kind: Service
name: ${SERVICE}
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: ${options.replicas}
version: ${JSON.stringify(options.version ?? '1')}
env: ${JSON.stringify({ DEMO_LATENCY_MS: '0', ...options.env })}
health: {path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 3}
stopGraceMs: 2000
drainTimeoutMs: 5000
deploy: ${JSON.stringify(options.deploy)}
`;
}

export interface Gateway {
  readonly cli: RunningCli;
  readonly dir: string;
  /** The revision serving once the service started. */
  readonly firstRevision: string;
}

export type Cleanups = Array<() => Promise<void> | void>;

/** Stops a gateway (SIGTERM) and waits for its exit; nothing when it already exited. */
export async function stopGateway(cli: RunningCli): Promise<void> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
}

/** Waits until the service has `replicas` ready replicas of one revision, which serves. */
export async function waitServing(cli: RunningCli, replicas: number, timeoutMs = 20_000): Promise<ServiceView> {
  return eventually(async () => {
    const view = await service(cli);
    const ready = (view.replicas ?? []).filter((r) => r.state === 'ready');
    expect(ready, 'ready replicas').toHaveLength(replicas);
    expect(view.stableRevision).toBeDefined();
    expect(ready.every((r) => r.revision === view.stableRevision)).toBe(true);
    return view;
  }, { timeoutMs, intervalMs: 100 });
}

/** Writes a config folder (removed by the cleanups), starts the gateway on it (stopped by the
 * cleanups) and waits until every replica of the service is ready. */
export async function startGateway(cleanups: Cleanups, options: DemoServiceOptions): Promise<Gateway> {
  const dir = configDir({ 'routes/demo.yaml': ROUTE_YAML, 'policies/demo.yaml': demoServiceYaml(options) });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await restartGateway(cleanups, dir);
  const view = await waitServing(cli, options.replicas);
  return { cli, dir, firstRevision: view.stableRevision ?? '' };
}

/** Starts (again) a gateway on an existing config folder; the cleanups stop it. */
export async function restartGateway(cleanups: Cleanups, dir: string): Promise<RunningCli> {
  const cli = await startCli(dir);
  cleanups.push(() => stopGateway(cli));
  if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at start: ${cli.stderr()}\n${cli.stdout().slice(-2000)}`);
  return cli;
}

export function policyFile(dir: string): string {
  return join(dir, 'policies/demo.yaml');
}

async function json<T>(cli: RunningCli, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await request(`${cli.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export async function service(cli: RunningCli): Promise<ServiceView> {
  const res = await json<ServiceView>(cli, 'GET', `/v1/services/${SERVICE}`);
  expect(res.status).toBe(200);
  return res.body;
}

export async function rollout(cli: RunningCli): Promise<RolloutView> {
  const r = (await service(cli)).rollout;
  if (r === undefined) throw new Error('the service has no rollout');
  return r;
}

export interface ErrorBody {
  readonly error?: { readonly code: string; readonly message: string };
}

/** GETs the service's document as written, changes it, and PUTs it back. */
export async function putChanged(
  cli: RunningCli,
  change: (document: Record<string, unknown>) => Record<string, unknown>,
  options: { supersede?: boolean } = {},
): Promise<{ status: number; body: ServiceView & ErrorBody }> {
  const document = (await service(cli)).document as Record<string, unknown> | undefined;
  if (document === undefined) throw new Error('GET /v1/services/demo shows no document');
  return json(cli, 'PUT', `/v1/services/${SERVICE}${options.supersede === true ? '?supersede=true' : ''}`, change(structuredClone(document)));
}

/** PUTs the service's document with another `version` (and env entries added) and returns the
 * revision the spec now names; expects the PUT to be accepted. */
export async function deployVersion(cli: RunningCli, version: string, env: Readonly<Record<string, string>> = {}, options: { supersede?: boolean } = {}): Promise<string> {
  const res = await putChanged(cli, (doc) => ({ ...doc, version, env: { ...(doc['env'] as Record<string, string>), ...env } }), options);
  expect(res.status, JSON.stringify(res.body.error)).toBe(200);
  const revision = res.body.revision ?? '';
  expect(revision).not.toBe('');
  return revision;
}

export async function command(cli: RunningCli, name: 'promote' | 'abort' | 'pause' | 'resume'): Promise<{ status: number; body: { message?: string; rollout?: RolloutView } & ErrorBody }> {
  return json(cli, 'POST', `/v1/services/${SERVICE}/rollout/${name}`);
}

export async function rollback(cli: RunningCli, body: { toRevision?: string } = {}): Promise<{ status: number; body: { message?: string; rollout?: RolloutView } & ErrorBody }> {
  return json(cli, 'POST', `/v1/services/${SERVICE}/rollback`, body);
}

export async function revisions(cli: RunningCli): Promise<readonly RevisionView[]> {
  const res = await json<{ revisions: RevisionView[] }>(cli, 'GET', `/v1/services/${SERVICE}/revisions`);
  expect(res.status).toBe(200);
  return res.body.revisions;
}

export async function events(cli: RunningCli): Promise<readonly TimelineEvent[]> {
  const res = await json<{ events: TimelineEvent[] }>(cli, 'GET', `/v1/events?service=${SERVICE}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events;
}

/** Waits until the rollout with `id` is in `phase` and returns its view. */
export async function waitPhase(cli: RunningCli, id: string, phase: RolloutView['phase'], timeoutMs = 30_000): Promise<RolloutView> {
  return eventually(async () => {
    const r = await rollout(cli);
    expect({ id: r.id, phase: r.phase, message: r.message }).toMatchObject({ id, phase });
    return r;
  }, { timeoutMs, intervalMs: 50 });
}

/** Replicas that are not draining, per revision. */
export function activeByRevision(view: ServiceView): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of view.replicas ?? []) if (r.state !== 'draining') counts[r.revision] = (counts[r.revision] ?? 0) + 1;
  return counts;
}

/** Waits until every replica (draining ones included) runs `revision` and `count` are ready. */
export async function waitOnlyRevision(cli: RunningCli, revision: string, count: number, timeoutMs = 20_000): Promise<ServiceView> {
  return eventually(async () => {
    const view = await service(cli);
    expect((view.replicas ?? []).map((r) => `${r.revision} ${r.state}`)).toEqual(Array.from({ length: count }, () => `${revision} ready`));
    return view;
  }, { timeoutMs, intervalMs: 100 });
}

/** The gateway's log lines that are not replica output, for failure messages. */
export function gatewayLog(cli: RunningCli, lines = 60): string {
  return cli
    .stdout()
    .split('\n')
    .filter((l) => l !== '' && !l.includes('"stream"'))
    .slice(-lines)
    .join('\n');
}

export interface ServiceSampler {
  /** Stops sampling and returns every view taken. */
  stop(): Promise<readonly ServiceView[]>;
}

/** Takes GET /v1/services/demo every `intervalMs` until stopped (bounded by `maxMs`), for
 * invariants that must hold at every moment of a rollout. */
export function sampleService(cli: RunningCli, intervalMs = 50, maxMs = 60_000): ServiceSampler {
  const views: ServiceView[] = [];
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loop = (async () => {
    while (!stopped && Date.now() < deadline) {
      views.push(await service(cli));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return views;
    },
  };
}

/** Sends `total` requests through the proxy and expects every one answered 200 by `version`. */
export async function sendAndCheck(cli: RunningCli, total: number, version: string): Promise<void> {
  const load = await sendRequests(cli.proxyUrl, total, { concurrency: 2 });
  expect(load.failures, describeFailures(load.failures)).toEqual([]);
  expect([...load.byVersion]).toEqual([[version, total]]);
}

/** Rewrites the service's policy file (the gateway watches it) and waits until the spec names a
 * new revision, which it returns. */
export async function rewritePolicy(gateway: Gateway, options: DemoServiceOptions): Promise<string> {
  const before = (await service(gateway.cli)).revision;
  writeFileSync(policyFile(gateway.dir), demoServiceYaml(options));
  return eventually(async () => {
    const revision = (await service(gateway.cli)).revision;
    expect(revision, 'the spec revision after the policy file changed').not.toBe(before);
    return revision ?? '';
  }, { timeoutMs: 10_000, intervalMs: 50 });
}
