// Whole ServiceController runs on the fake runtime and fake time: a rollout is driven tick by
// tick (100 ms) and invariants are asserted at every tick, plus inside the endpoint and traffic
// callbacks (ControllerHarness.violations): weights sum to 100, no weight on a revision without a
// pickable endpoint, no replica stopped with requests in flight before its drain timeout.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControllerHarness, useScenarioTimers } from './controller-harness.js';
import { policyWith } from './rollout-fixtures.js';
import type { CanaryStep } from '../../../src/deploy/plan/canary.js';

let harness: ControllerHarness | undefined;

function start(options: ConstructorParameters<typeof ControllerHarness>[0]): ControllerHarness {
  useScenarioTimers();
  harness = new ControllerHarness(options);
  return harness;
}

afterEach(() => {
  harness?.controller.close();
  harness = undefined;
  vi.useRealTimers();
});

const surgeOnly = policyWith({ rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 } });
const quarter = policyWith({ rolling: { maxSurge: '25%', maxUnavailable: '25%', minReadyMs: 0 } });

describe('scenario: rolling', () => {
  it('4 -> 4 with maxSurge 1 / maxUnavailable 0 keeps 4 serving and at most 5 active, and ends with 4 of the new revision', async () => {
    const h = start({ policy: surgeOnly });
    const r1 = await h.boot();
    h.minPickable = 4;
    const r2 = h.deploy('v2');
    expect(r2).not.toBe(r1);
    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(r1) === 0, {
      maxMs: 120_000,
      check: () => {
        expect(h.pickable().length, JSON.stringify(h.summary())).toBeGreaterThanOrEqual(4);
        expect(h.active(), JSON.stringify(h.summary())).toBeLessThanOrEqual(5);
      },
    });
    expect(h.active(r2)).toBe(4);
    expect(h.pickable(r2)).toHaveLength(4);
    expect(h.status().stableRevision).toBe(r2);
    expect(h.violations).toEqual([]);
  });

  it('4 -> 4 at 25%/25% never has fewer than 3 serving nor more than 5 active', async () => {
    const h = start({ policy: quarter });
    const r1 = await h.boot();
    h.minPickable = 3;
    const r2 = h.deploy('v2');
    let lowest = Infinity;
    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(r1) === 0, {
      maxMs: 120_000,
      check: () => {
        lowest = Math.min(lowest, h.pickable().length);
        expect(h.pickable().length, JSON.stringify(h.summary())).toBeGreaterThanOrEqual(3);
        expect(h.active(), JSON.stringify(h.summary())).toBeLessThanOrEqual(5);
      },
    });
    expect(lowest).toBe(3); // it did use its unavailability budget
    expect(h.active(r2)).toBe(4);
    expect(h.violations).toEqual([]);
  });

  it('no replica is stopped while it has requests in flight, unless its drain timeout passed', async () => {
    const h = start({ policy: surgeOnly, drainTimeoutMs: 3_000 });
    const r1 = await h.boot();
    // Every draining replica holds 3 requests that finish 800 ms later; the first one's never do.
    let stuck: string | undefined;
    h.onDrain = (replicaId, endpointId) => {
      h.inFlight.set(endpointId, 3);
      if (stuck === undefined) {
        stuck = replicaId;
        return;
      }
      setTimeout(() => h.inFlight.set(endpointId, 0), 800);
    };
    h.deploy('v2');
    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(r1) === 0, {
      maxMs: 120_000,
      check: () => expect(h.pickable().length).toBeGreaterThanOrEqual(4),
    });
    expect(h.violations).toEqual([]);
    const oldStops = h.stops.filter((s) => s.revision === r1);
    expect(oldStops).toHaveLength(4);
    for (const s of oldStops) {
      const heldMs = s.atMs - (s.drainStartedAtMs ?? s.atMs);
      if (s.replicaId === stuck) {
        expect(heldMs).toBeGreaterThanOrEqual(3_000);
        expect(heldMs).toBeLessThan(3_200);
      } else {
        expect(heldMs).toBeGreaterThanOrEqual(800);
        expect(s.inFlight).toBe(0);
      }
    }
  });

  it('a revision that never passes its health check is rolled back: the old revision serves 4 again, none of the bad one is left', async () => {
    const h = start({ policy: policyWith({ ...quarter, progressDeadlineMs: 15_000 }) });
    const r1 = await h.boot();
    h.minPickable = 3;
    const r2 = h.deploy('v2');
    h.failingRevisions.add(r2);
    await h.runUntil(() => h.rollout()?.phase === 'RolledBack' && h.pickable(r1).length === 4 && h.runtimeCount(r2) === 0 && h.active() === 4, {
      maxMs: 120_000,
      check: () => {
        expect(h.pickable().length, JSON.stringify(h.summary())).toBeGreaterThanOrEqual(3);
        expect(h.active()).toBeLessThanOrEqual(5);
      },
    });
    expect(h.rollout()?.message).toBe(`no progress for 15000 ms; rolled back to ${r1}`);
    expect(h.status().stableRevision).toBe(r1);
    expect(h.controller.revisions().find((r) => r.revision === r2)).toMatchObject({ heldBack: true, replicas: 0 });
    // Held back: it stays rolled back, nothing tries r2 again.
    const startsBefore = h.runtime.startLog.length;
    await h.runUntil(() => false, { maxMs: 20_000, stepMs: 1_000 }).catch(() => undefined);
    expect(h.runtime.startLog.length).toBe(startsBefore);
    expect(h.violations).toEqual([]);
  });

  it('abort halfway with maxSurge 1 / maxUnavailable 0 puts the old revision back without going under 4 serving', async () => {
    const h = start({ policy: surgeOnly });
    const r1 = await h.boot();
    h.minPickable = 4;
    const r2 = h.deploy('v2');
    await h.runUntil(() => h.pickable(r2).length === 2, { maxMs: 60_000 });
    expect(await h.settle(h.controller.command('abort'))).toMatchObject({ ok: true, message: 'aborting' });
    await h.runUntil(() => h.runtimeCount(r2) === 0 && h.pickable(r1).length === 4, {
      maxMs: 60_000,
      check: () => {
        expect(h.pickable().length, JSON.stringify(h.summary())).toBeGreaterThanOrEqual(4);
        expect(h.active()).toBeLessThanOrEqual(5);
      },
    });
    expect(h.rollout()?.phase).toBe('Aborted');
    expect(h.controller.revisions().find((r) => r.revision === r2)?.heldBack).toBe(true);
    expect(h.violations).toEqual([]);
  });

  it('with autoRollback off, a Failed rollout stays frozen until abort, which restores the old revision', async () => {
    const h = start({ policy: policyWith({ ...quarter, progressDeadlineMs: 15_000, autoRollback: false }) });
    const r1 = await h.boot();
    const r2 = h.deploy('v2');
    h.failingRevisions.add(r2);
    await h.runUntil(() => h.rollout()?.phase === 'Failed', { maxMs: 60_000 });
    const frozen = h.summary();
    await h.tick(10_000);
    expect(h.summary().replicas).toEqual(frozen.replicas);
    expect(await h.settle(h.controller.command('abort'))).toMatchObject({ ok: true, message: 'aborted' });
    await h.runUntil(() => h.pickable(r1).length === 4 && h.runtimeCount(r2) === 0, { maxMs: 60_000 });
    expect(h.rollout()?.phase).toBe('Aborted');
  });

  it('with autoRollback off, reverting the spec to the old revision ends the Failed rollout and restores it', async () => {
    const h = start({ policy: policyWith({ ...quarter, progressDeadlineMs: 15_000, autoRollback: false }) });
    const r1 = await h.boot();
    const r2 = h.deploy('v2');
    h.failingRevisions.add(r2);
    await h.runUntil(() => h.rollout()?.phase === 'Failed', { maxMs: 60_000 });
    expect(h.deploy('v1')).toBe(r1);
    await h.runUntil(() => h.pickable(r1).length === 4 && h.runtimeCount(r2) === 0, { maxMs: 60_000 });
    expect(h.rollout()?.phase).not.toBe('Failed');
  });
});

describe('scenario: blue-green with manual promote', () => {
  const policy = policyWith({ strategy: 'blue-green', blueGreen: { autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 20_000 } });

  async function greenWaiting(h: ControllerHarness): Promise<{ blue: string; green: string }> {
    const blue = await h.boot();
    const green = h.deploy('v2');
    await h.runUntil(() => h.rollout()?.phase === 'Paused' && h.pickable(green).length === 4, {
      maxMs: 60_000,
      check: () => {
        expect(h.weightOf(blue) ?? 100).toBe(100);
        expect(h.pickable(blue)).toHaveLength(4);
      },
    });
    // Held until promote: nothing moves by itself.
    await h.runUntil(() => false, { maxMs: 10_000, stepMs: 500, check: () => expect(h.weightOf(blue)).toBe(100) }).catch(() => undefined);
    expect(h.rollout()?.phase).toBe('Paused');
    return { blue, green };
  }

  it('serves 100% blue until promote, switches in one step, keeps blue until scaleDownDelayMs, then drains it', async () => {
    const h = start({ policy });
    const { blue, green } = await greenWaiting(h);
    for (const t of h.trafficLog) expect(t.traffic === undefined || t.traffic.weights.find((w) => w.revision === blue)?.percent === 100).toBe(true);

    const logBefore = h.trafficLog.length;
    const result = await h.settle(h.controller.command('promote'));
    expect(result).toMatchObject({ ok: true, message: 'promoted' });
    const switched = h.trafficLog[logBefore];
    expect(switched?.traffic?.weights).toEqual([{ revision: blue, percent: 0 }, { revision: green, percent: 100 }]);
    const switchedAtMs = switched?.atMs ?? 0;

    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(blue) === 0, {
      maxMs: 60_000,
      check: () => {
        if (h.nowMs < switchedAtMs + 20_000) expect(h.active(blue), 'blue kept warm').toBe(4);
        for (const t of h.trafficLog.slice(logBefore)) expect(t.traffic === undefined || t.traffic.weights.every((w) => w.revision !== blue || w.percent === 0)).toBe(true);
      },
    });
    const firstBlueDrain = h.events.list().find((e) => e.type === 'replica.draining' && String(e.data?.['revision']) === blue);
    expect(firstBlueDrain?.atMs).toBeGreaterThanOrEqual(switchedAtMs + 20_000);
    expect(h.active(green)).toBe(4);
    expect(h.violations).toEqual([]);
  });

  it('abort during the scale-down delay puts all traffic back on the warm blue set at once and drains green', async () => {
    const h = start({ policy });
    const { blue, green } = await greenWaiting(h);
    await h.settle(h.controller.command('promote'));
    await h.tick(5_000);
    expect(h.weightOf(green)).toBe(100);
    const result = await h.settle(h.controller.command('abort'));
    expect(result).toMatchObject({ ok: true });
    const abortedAt = h.events.list().find((e) => e.type === 'rollout.aborted');
    expect(abortedAt).toBeDefined();
    const after = h.trafficLog.filter((t) => t.afterEventSeq >= (abortedAt?.seq ?? 0));
    expect(after[0]?.atMs).toBe(abortedAt?.atMs);
    expect(after[0]?.traffic?.weights).toEqual([{ revision: blue, percent: 100 }]);
    await h.runUntil(() => h.runtimeCount(green) === 0, { maxMs: 30_000, check: () => expect(h.pickable(blue)).toHaveLength(4) });
    expect(h.status().stableRevision).toBe(blue);
    expect(h.violations).toEqual([]);
  });
});

describe('scenario: canary', () => {
  const steps: CanaryStep[] = [{ setWeight: 20 }, { pause: { durationMs: 10_000 } }, { setWeight: 50 }, { pause: {} }];

  it('steps 20% -> pause -> 50% -> promote: weights always sum to 100, never on a revision without a pickable endpoint, ends with only the new revision', async () => {
    const h = start({ policy: policyWith({ strategy: 'canary', canary: { steps, stickySessions: false } }) });
    const stable = await h.boot();
    const canary = h.deploy('v2');
    const check = (): void => {
      expect(h.violations, JSON.stringify(h.summary())).toEqual([]);
    };
    await h.runUntil(() => h.rollout()?.phase === 'Paused' && h.weightOf(canary) === 50, {
      maxMs: 60_000,
      check: () => {
        check();
        expect(h.pickable(stable)).toHaveLength(4);
      },
    });
    expect(h.active(canary)).toBe(2);
    const result = await h.settle(h.controller.command('promote'));
    expect(result).toMatchObject({ ok: true });
    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(stable) === 0, {
      maxMs: 60_000,
      check: () => {
        check();
        // Stable stays at full size until the canary has taken everything.
        if (h.rollout()?.phase === 'Progressing') expect(h.pickable(stable)).toHaveLength(4);
      },
    });
    // Events on changes only: no step or weights event repeats the one before it.
    for (const type of ['rollout.step', 'rollout.weights']) {
      const messages = h.events.list().filter((e) => e.type === type).map((e) => e.message);
      expect(messages.filter((msg, i) => i > 0 && messages[i - 1] === msg)).toEqual([]);
    }
    // Every split published, in order: the canary's weight only ever grows, 0 -> 20 -> 50 -> 100.
    const canaryWeights = h.trafficLog.flatMap((t) => {
      const w = t.traffic?.weights.find((x) => x.revision === canary);
      return w === undefined ? [] : [w.percent];
    });
    expect(canaryWeights.filter((w, i) => i === 0 || canaryWeights[i - 1] !== w)).toEqual([0, 20, 50, 100]);
    expect(h.active(canary)).toBe(4);
    expect(h.active(stable)).toBe(0);
    await h.tick(1_000);
    expect(h.traffic).toBeUndefined();
    expect(h.violations).toEqual([]);
  });

  describe('analysis failing (20% errors on enough requests)', () => {
    const analysis = { intervalMs: 10_000, minRequests: 50, failureLimit: 1, minSuccessRate: 0.99 };
    const policy = policyWith({ strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: { durationMs: 60_000 } }, { setWeight: 50 }, { pause: {} }], stickySessions: false, analysis } });

    async function runToAbort(h: ControllerHarness): Promise<{ stable: string; canary: string }> {
      const stable = await h.boot();
      const canary = h.deploy('v2');
      h.measure = (revision) => (revision === canary ? { requests: 1_000, errors5xx: 200, p95Ms: 40, p99Ms: 80 } : { requests: 0, errors5xx: 0, p95Ms: 0, p99Ms: 0 });
      await h.runUntil(() => h.rollout()?.phase === 'Aborted' && h.runtimeCount(canary) === 0, {
        maxMs: 120_000,
        check: () => {
          expect(h.violations, JSON.stringify(h.summary())).toEqual([]);
          expect(h.pickable(stable)).toHaveLength(4);
        },
      });
      return { stable, canary };
    }

    it('aborts: canary weight 0 in the same reconcile as the abort, before any canary replica drains, then the canary replicas are gone', async () => {
      const h = start({ policy });
      const { stable, canary } = await runToAbort(h);
      const aborted = h.events.list().find((e) => e.type === 'rollout.aborted');
      expect(aborted?.message).toContain('analysis failed: success rate 0.8 < 0.99 (2 failed intervals > failureLimit 1)');
      const analyses = h.events.list().filter((e) => e.type === 'rollout.analysis');
      expect(analyses).toHaveLength(2);
      for (const a of analyses) expect(a.data).toMatchObject({ revision: canary, verdict: 'fail', requests: 1_000, errors5xx: 200, successRate: 0.8 });

      const firstAfter = h.trafficLog.find((t) => t.afterEventSeq >= (aborted?.seq ?? 0));
      expect(firstAfter?.atMs).toBe(aborted?.atMs);
      expect(firstAfter?.traffic?.weights).toEqual([{ revision: stable, percent: 100 }]);
      const firstCanaryDrain = h.events.list().find((e) => e.type === 'replica.draining' && String(e.data?.['revision']) === canary);
      expect(firstCanaryDrain?.atMs).toBe(aborted?.atMs);
      expect(firstAfter?.afterEventSeq).toBeLessThan(firstCanaryDrain?.seq ?? 0);
      for (const t of h.trafficLog.filter((x) => x.afterEventSeq >= (aborted?.seq ?? 0))) expect(t.traffic?.weights.find((w) => w.revision === canary)?.percent ?? 0).toBe(0);
      expect(h.status().stableRevision).toBe(stable);
      expect(h.violations).toEqual([]);
    });

    it('aborts within failureLimit + 1 analysis intervals of the canary first taking traffic', async () => {
      const h = start({ policy });
      const { canary } = await runToAbort(h);
      const firstWeight = h.trafficLog.find((t) => (t.traffic?.weights.find((w) => w.revision === canary)?.percent ?? 0) > 0);
      const aborted = h.events.list().find((e) => e.type === 'rollout.aborted');
      expect((aborted?.atMs ?? Infinity) - (firstWeight?.atMs ?? 0)).toBeLessThanOrEqual((analysis.failureLimit + 1) * analysis.intervalMs);
    });
  });
});
