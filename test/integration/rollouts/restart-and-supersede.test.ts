// Rollouts across a gateway restart and rollouts replaced by a new spec (issue 6): a canary paused
// at 50% survives SIGTERM and a new start on the same config folder (persisted state, no duplicate
// replicas) and is then promoted; a second PUT while a rollout runs is refused with 409 unless it
// asks to supersede. Real gateway, real demo processes, loopback only.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { isProcessAlive } from '../../helpers/processes.js';
import {
  command,
  deployVersion,
  events,
  gatewayLog,
  putChanged,
  restartGateway,
  rollout,
  service,
  startGateway,
  stopGateway,
  waitOnlyRevision,
  waitPhase,
  type Cleanups,
} from '../../helpers/rollout-gateway.js';
import { describeFailures, sendRequests, startTraffic } from '../../helpers/rollout-traffic.js';
import type { RunningCli } from '../../helpers/cli.js';
import type { RolloutView } from '../../../src/deploy/service-controller.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const LOAD = { concurrency: 3, maxMs: 50_000, maxRequests: 100_000 } as const;
const CANARY_AT_HALF = { strategy: 'canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } as const;

function byRevision(counts: ReadonlyArray<{ revision: string; active: number; ready: number }>): typeof counts {
  return [...counts].sort((a, b) => (a.revision < b.revision ? -1 : 1));
}

/** Waits until rollout `id` waits at its `pause: {}` step with 50% on each revision and the
 * stable set at `replicas`, the canary at ceil(replicas / 2), all ready. */
async function pausedAtHalf(cli: RunningCli, id: string, stable: string, canary: string, replicas: number): Promise<RolloutView> {
  return eventually(async () => {
    const r = await rollout(cli);
    expect(r).toMatchObject({ id, phase: 'Paused', fromRevision: stable, toRevision: canary, step: { index: 1, total: 2 }, weights: [{ revision: stable, percent: 50 }, { revision: canary, percent: 50 }] });
    expect(r.replicas).toEqual(
      byRevision([
        { revision: stable, active: replicas, ready: replicas },
        { revision: canary, active: Math.ceil(replicas / 2), ready: Math.ceil(replicas / 2) },
      ]),
    );
    return r;
  }, { timeoutMs: 20_000, intervalMs: 100 });
}

/** The dockmaster_rollouts_total samples of GET /metrics, sorted. */
async function rolloutsTotal(cli: RunningCli): Promise<string[]> {
  const text = await (await request(`${cli.adminUrl}/metrics`)).body.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('dockmaster_rollouts_total{'))
    .sort();
}

describe('rollouts across a restart and superseded rollouts (process runtime)', () => {
  it('resumes a canary paused at 50% after SIGTERM and a new start on the same folder, without duplicate replicas, and promotes it', async () => {
    const first = await startGateway(cleanups, { replicas: 4, deploy: CANARY_AT_HALF });
    const rev1 = first.firstRevision;
    const before = startTraffic(first.cli.proxyUrl, LOAD);
    await waitFor(() => before.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });
    const rev2 = await deployVersion(first.cli, '2');
    const paused = await pausedAtHalf(first.cli, 'demo#1', rev1, rev2, 4);
    const beforeLoad = await before.stop();
    expect(beforeLoad.failures, describeFailures(beforeLoad.failures)).toHaveLength(0);
    const pids = ((await service(first.cli)).replicas ?? []).map((r) => Number(r.nativeId));
    expect(pids).toHaveLength(6);

    await stopGateway(first.cli);
    expect(await first.cli.exited).toBe(0);
    // Process replicas die with the gateway.
    await waitFor(() => pids.every((pid) => !isProcessAlive(pid)), 'the old replicas gone', { timeoutMs: 10_000 });

    const cli = await restartGateway(cleanups, first.dir);
    const resumed = await pausedAtHalf(cli, 'demo#1', rev1, rev2, 4);
    expect(resumed).toMatchObject({ startedAtMs: paused.startedAtMs, step: paused.step, weights: paused.weights, paused: false });
    expect((await events(cli)).find((e) => e.type === 'rollout.resumed')?.message).toContain('demo#1 resumed after restart at step 1/2');
    // No duplicates, now and for a while: 4 stable + 2 canary replicas, nothing else.
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      const view = await service(cli);
      const where = JSON.stringify((view.replicas ?? []).map((r) => `${r.revision} ${r.state}`));
      expect(view.replicas, where).toHaveLength(6);
      expect(view.replicas?.filter((r) => r.revision === rev2), where).toHaveLength(2);
      expect(view.rollout?.replicas).toEqual(resumed.replicas);
      await new Promise((r) => setTimeout(r, 100));
    }
    const split = await sendRequests(cli.proxyUrl, 200, { concurrency: 2 });
    expect(split.failures, describeFailures(split.failures)).toHaveLength(0);
    expect(split.byVersion.get('2')).toBeGreaterThanOrEqual(90);
    expect(split.byVersion.get('2')).toBeLessThanOrEqual(110);

    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before promote', { timeoutMs: 10_000 });
    const promoted = await command(cli, 'promote');
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 4);
    const load = await traffic.stop();
    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect((await service(cli)).stableRevision).toBe(rev2);
  }, 60_000);

  it('refuses a second template while a rollout runs with 409 DM_ERR_DEPLOY_IN_PROGRESS; with ?supersede=true aborts it and starts a new one: no failed request', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, { replicas: 3, deploy: CANARY_AT_HALF });
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });
    const rev2 = await deployVersion(cli, '2');
    await pausedAtHalf(cli, 'demo#1', rev1, rev2, 3);

    const refused = await putChanged(cli, (doc) => ({ ...doc, version: '3' }));
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('DM_ERR_DEPLOY_IN_PROGRESS');
    expect(refused.body.error?.message).toContain('rollout demo#1');
    expect(await service(cli)).toMatchObject({ revision: rev2, rollout: { id: 'demo#1', phase: 'Paused' } });

    const rev3 = await deployVersion(cli, '3', {}, { supersede: true });
    expect(rev3).not.toBe(rev2);
    const timeline = await events(cli);
    expect(timeline.find((e) => e.type === 'rollout.superseded')?.message).toBe(`demo#1 superseded: rollout ${rev1} -> ${rev3}`);
    // The new rollout starts from the revision that serves; the superseded canary's replicas go.
    await pausedAtHalf(cli, 'demo#2', rev1, rev3, 3);
    await eventually(async () => expect((await service(cli)).replicas?.filter((r) => r.revision === rev2)).toEqual([]), { timeoutMs: 10_000 });
    const atHalfMs = Date.now();
    await waitFor(() => traffic.answers().filter((a) => a.startedAtMs > atHalfMs).length >= 100, 'load at the new canary', { timeoutMs: 10_000 });

    const promoted = await command(cli, 'promote');
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    await waitPhase(cli, 'demo#2', 'Succeeded');
    await waitOnlyRevision(cli, rev3, 3);
    const load = await traffic.stop();

    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(new Set(load.answers.filter((a) => a.startedAtMs > atHalfMs).map((a) => a.version))).toEqual(new Set(['1', '3']));
    // Rollouts that ended, by final phase: the superseded one ended Aborted, the new one Succeeded.
    expect(await rolloutsTotal(cli)).toEqual(['dockmaster_rollouts_total{service="demo",strategy="canary",phase="Aborted"} 1', 'dockmaster_rollouts_total{service="demo",strategy="canary",phase="Succeeded"} 1']);
  }, 60_000);
});
