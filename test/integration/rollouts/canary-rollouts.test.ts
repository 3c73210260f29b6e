// Canary rollouts of a process-runtime service under continuous load through the real proxy
// (issue 6): steps with a timed pause and a pause until promote, then promotion; and the traffic
// split a 20% step gives, counted over 2000 requests. Real gateway, real demo processes, loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { command, deployVersion, events, gatewayLog, rollout, startGateway, waitOnlyRevision, waitPhase, type Cleanups } from '../../helpers/rollout-gateway.js';
import { describeFailures, sendRequests, startTraffic } from '../../helpers/rollout-traffic.js';
import type { TimelineEvent } from '../../../src/observability/event-log.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const LOAD = { concurrency: 3, maxMs: 50_000, maxRequests: 100_000 } as const;
const TIMED_PAUSE_MS = 2_000;

/** The first `rollout.weights` event that gives `revision` `percent`. */
function weightEvent(timeline: readonly TimelineEvent[], revision: string, percent: number): TimelineEvent | undefined {
  return timeline.find((e) => e.type === 'rollout.weights' && JSON.stringify(e.data?.['weights']).includes(`{"revision":"${revision}","percent":${percent}}`));
}

describe('canary rollouts under load (process runtime)', () => {
  it('walks the steps (20%, a 2 s pause, 50%, a pause until promote) and is promoted to 4 replicas of version 2: no failed request', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 4,
      deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: { durationMs: TIMED_PAUSE_MS } }, { setWeight: 50 }, { pause: {} }] } },
    });
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

    const rev2 = await deployVersion(cli, '2');
    const waiting = await waitPhase(cli, 'demo#1', 'Paused');
    expect(waiting).toMatchObject({
      step: { index: 3, total: 4, description: 'pause until promote' },
      weights: [{ revision: rev1, percent: 50 }, { revision: rev2, percent: 50 }],
    });
    // The stable set stays at full size; the canary has ceil(4 x 50%) replicas.
    await eventually(async () => {
      expect((await rollout(cli)).replicas).toEqual(
        [
          { revision: rev1, active: 4, ready: 4 },
          { revision: rev2, active: 2, ready: 2 },
        ].sort((a, b) => (a.revision < b.revision ? -1 : 1)),
      );
    }, { timeoutMs: 5_000 });
    const atHalfMs = Date.now();
    await waitFor(() => traffic.answers().filter((a) => a.startedAtMs > atHalfMs).length >= 200, 'load at 50%', { timeoutMs: 10_000 });
    const promotedAtMs = Date.now();

    const promoted = await command(cli, 'promote');
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    const done = await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 4);
    const endedAtMs = Date.now();
    const countAtEnd = traffic.count();
    await waitFor(() => traffic.count() >= countAtEnd + 100, 'load after the rollout', { timeoutMs: 10_000 });
    const load = await traffic.stop();

    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(done).toMatchObject({ strategy: 'canary', fromRevision: rev1, toRevision: rev2, weights: [{ revision: rev1, percent: 0 }, { revision: rev2, percent: 100 }] });
    const atHalf = load.answers.filter((a) => a.startedAtMs > atHalfMs && a.endedAtMs < promotedAtMs);
    const halfShare = atHalf.filter((a) => a.version === '2').length / atHalf.length;
    expect(halfShare).toBeGreaterThan(0.4);
    expect(halfShare).toBeLessThan(0.6);
    expect(load.answers.filter((a) => a.startedAtMs > endedAtMs && a.version !== '2')).toEqual([]);

    // The timed pause held the 20% weight for its duration before 50% came.
    const timeline = await events(cli);
    const at20 = weightEvent(timeline, rev2, 20);
    const at50 = weightEvent(timeline, rev2, 50);
    expect(at20, JSON.stringify(timeline.map((e) => e.message))).toBeDefined();
    expect(at50).toBeDefined();
    expect((at50?.atMs ?? 0) - (at20?.atMs ?? 0)).toBeGreaterThanOrEqual(TIMED_PAUSE_MS);
    expect((at50?.atMs ?? 0) - (at20?.atMs ?? 0)).toBeLessThan(TIMED_PAUSE_MS + 3_000);
  }, 60_000);

  it('splits the traffic of a 20% canary step within 3 points of 20% over 2000 requests', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 4,
      deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
    });
    const rev2 = await deployVersion(cli, '2');
    const waiting = await waitPhase(cli, 'demo#1', 'Paused');
    expect(waiting).toMatchObject({ step: { index: 1 }, weights: [{ revision: rev1, percent: 80 }, { revision: rev2, percent: 20 }] });
    await eventually(async () => {
      const canary = (await rollout(cli)).replicas.find((r) => r.revision === rev2);
      expect(canary).toEqual({ revision: rev2, active: 1, ready: 1 });
    }, { timeoutMs: 5_000 });

    const load = await sendRequests(cli.proxyUrl, 2_000, { concurrency: 4 });

    expect(load.failures, describeFailures(load.failures)).toHaveLength(0);
    expect(load.answers).toHaveLength(2_000);
    const canaryPercent = ((load.byVersion.get('2') ?? 0) * 100) / 2_000;
    expect(canaryPercent, JSON.stringify([...load.byVersion])).toBeGreaterThanOrEqual(17);
    expect(canaryPercent, JSON.stringify([...load.byVersion])).toBeLessThanOrEqual(23);
    expect((load.byVersion.get('1') ?? 0) + (load.byVersion.get('2') ?? 0)).toBe(2_000);
  }, 60_000);
});
