// Rolling rollouts of a process-runtime service under continuous load through the real proxy
// (issue 6): 4 -> 4 replicas without a failed request, pause and resume, and a rollback to the
// previous revision. Real gateway (the built CLI), real demo processes, loopback only.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/eventually.js';
import type { RunningCli } from '../../helpers/cli.js';
import {
  activeByRevision,
  command,
  deployVersion,
  events,
  gatewayLog,
  revisions,
  rollback,
  sampleService,
  service,
  startGateway,
  waitOnlyRevision,
  waitPhase,
  type Cleanups,
} from '../../helpers/rollout-gateway.js';
import { describeFailures, startTraffic, type Answer } from '../../helpers/rollout-traffic.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const LOAD = { concurrency: 3, maxMs: 50_000, maxRequests: 100_000 } as const;

/** Waits until every replica has been up for longer than `minReadyMs`, with a margin for its
 * first passing health check. */
async function oldReplicasPastMinReady(cli: RunningCli, minReadyMs: number): Promise<void> {
  const startedAtMs = Math.max(...((await service(cli)).replicas ?? []).map((r) => r.startedAtMs));
  await waitFor(() => Date.now() > startedAtMs + minReadyMs + 1_000, 'the replicas past minReadyMs', { timeoutMs: minReadyMs + 5_000 });
}

/** The service's event timeline, one line each, for failure messages. */
async function timeline(cli: RunningCli): Promise<string> {
  return (await events(cli)).map((e) => `${e.atMs} ${e.type} ${e.message}`).join('\n');
}

function versionsOf(answers: readonly Answer[]): Set<string | undefined> {
  return new Set(answers.map((a) => a.version));
}

describe('rolling rollouts under load (process runtime)', () => {
  it('rolls 4 replicas to version 2 with maxSurge 1 and maxUnavailable 0: no failed request, never fewer than 4 ready nor more than 5 active', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, { replicas: 4, deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } } });
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });
    const sampler = sampleService(cli);

    const rev2 = await deployVersion(cli, '2');
    expect(rev2).not.toBe(rev1);
    const done = await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 4);
    const switchedAtMs = Date.now();
    const countAtSwitch = traffic.count();
    await waitFor(() => traffic.count() >= countAtSwitch + 100, 'load after the rollout', { timeoutMs: 10_000 });
    const views = await sampler.stop();
    const load = await traffic.stop();

    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(done).toMatchObject({ strategy: 'rolling', kind: 'deploy', fromRevision: rev1, toRevision: rev2 });
    expect((await service(cli)).stableRevision).toBe(rev2);
    expect(versionsOf(load.answers.filter((a) => a.startedAtMs > switchedAtMs))).toEqual(new Set(['2']));
    expect(load.byVersion.get('1') ?? 0).toBeGreaterThan(0);
    // The limits held at every sample: maxUnavailable 0 keeps 4 ready, maxSurge 1 allows 5 active.
    expect(views.length).toBeGreaterThan(10);
    for (const view of views) {
      const replicas = view.replicas ?? [];
      const where = JSON.stringify(replicas.map((r) => `${r.revision.slice(0, 6)} ${r.state}`));
      expect(replicas.filter((r) => r.state === 'ready').length, where).toBeGreaterThanOrEqual(4);
      expect(replicas.filter((r) => r.state !== 'draining').length, where).toBeLessThanOrEqual(5);
    }
  }, 60_000);

  it('holds a paused rolling rollout (replica counts stay put), finishes it on resume, then rolls back to version 1, all without a failed request', async () => {
    // minReadyMs slows each step down, so the pause lands while the rollout is under way.
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 4,
      deploy: { strategy: 'rolling', progressDeadlineMs: 60_000, rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 1_000 } },
    });
    // The old replicas count as available only after minReadyMs (see the next test for why this
    // wait matters).
    await oldReplicasPastMinReady(cli, 1_000);
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

    const rev2 = await deployVersion(cli, '2');
    const paused = await command(cli, 'pause');
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.rollout).toMatchObject({ id: 'demo#1', paused: true });
    const held = await waitPhase(cli, 'demo#1', 'Paused');
    expect(held.step.index).toBeLessThan(4);
    const heldCounts = activeByRevision(await service(cli));
    expect(heldCounts[rev2] ?? 0, await timeline(cli)).toBeLessThan(4);
    // Bounded observation: two and a half minReady periods in which the rollout would have moved.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      const view = await service(cli);
      expect(activeByRevision(view)).toEqual(heldCounts);
      expect(view.rollout).toMatchObject({ id: 'demo#1', phase: 'Paused', paused: true, step: { index: held.step.index } });
      await new Promise((r) => setTimeout(r, 100));
    }

    const resumed = await command(cli, 'resume');
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body.message).toBe('resumed');
    await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 4);
    const rolledOutAtMs = Date.now();

    const back = await rollback(cli, {});
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.rollout).toMatchObject({ id: 'demo#2', kind: 'rollback', fromRevision: rev2, toRevision: rev1 });
    await waitPhase(cli, 'demo#2', 'Succeeded');
    await waitOnlyRevision(cli, rev1, 4);
    const rolledBackAtMs = Date.now();
    const countAtEnd = traffic.count();
    await waitFor(() => traffic.count() >= countAtEnd + 100, 'load after the rollback', { timeoutMs: 10_000 });
    const load = await traffic.stop();

    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    const beforeRollback = load.answers.filter((a) => a.startedAtMs > rolledOutAtMs && a.endedAtMs < (back.body.rollout?.startedAtMs ?? 0));
    expect(beforeRollback.filter((a) => a.version !== '2')).toEqual([]);
    expect(versionsOf(load.answers.filter((a) => a.startedAtMs > rolledBackAtMs))).toEqual(new Set(['1']));
    const history = await revisions(cli);
    expect(history.find((r) => r.revision === rev1)).toMatchObject({ stable: true, replicas: 4 });
    expect(history.find((r) => r.revision === rev2)).toMatchObject({ stable: false, spec: true, heldBack: true, replicas: 0 });
  }, 60_000);

  it('keeps maxUnavailable 0 with minReadyMs when the old replicas are younger than minReadyMs (deploy right after start): no failed request', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 4,
      deploy: { strategy: 'rolling', progressDeadlineMs: 60_000, rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 1_000 } },
    });
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });
    const sampler = sampleService(cli);

    // The replicas of rev1 have been healthy for less than minReadyMs: they serve all the traffic
    // all the same, so maxUnavailable 0 must keep all 4 of them until new ones are available.
    const rev2 = await deployVersion(cli, '2');
    await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 4);
    const views = await sampler.stop();
    const load = await traffic.stop();

    const lowest = Math.min(...views.map((v) => (v.replicas ?? []).filter((r) => r.state === 'ready').length));
    expect(load.failures, `${describeFailures(load.failures)}\n${await timeline(cli)}`).toHaveLength(0);
    expect(lowest, `fewest ready replicas seen during ${rev1} -> ${rev2}\n${await timeline(cli)}`).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
