// Autoscaler scenarios on a fake clock: `decide` drives a simulated service (simulated-service.ts)
// that syncs every second. Replicas each serve 10 rps, become ready 2 s after they start, and
// show p95 100 ms until overloaded. The policy is AUTOSCALE_DEFAULTS with targetRps 8 (80% of
// capacity) and targetLatencyP95Ms 200: tolerance 0.1, stable window 60 s, panic window 6 s at
// threshold 2, scale-up window 0, scale-down window 300 s, the default rate policies.
import { describe, expect, it } from 'vitest';
import type { AutoscalePolicy } from '../../../src/model/autoscale.js';
import { policyWith } from './fixtures.js';
import { SECOND_MS, SimulatedService, seededRandom, type SimulationOptions, type Tick } from './simulated-service.js';

const CAPACITY_RPS = 10;
const TARGET_RPS = 8;
const TARGET_P95_MS = 200;
const MINUTE_MS = 60 * SECOND_MS;

function simulate(load: (tMs: number) => number, initialReplicas: number, policy: Partial<AutoscalePolicy> = {}, extra: Partial<SimulationOptions> = {}): SimulatedService {
  const options: SimulationOptions = {
    policy: policyWith({ minReplicas: 1, maxReplicas: 20, targetRps: TARGET_RPS, targetLatencyP95Ms: TARGET_P95_MS, ...policy }),
    capacityRps: CAPACITY_RPS,
    baseLatencyMs: 100,
    startupMs: 2 * SECOND_MS,
    initialReplicas,
    load,
    prefillSeconds: 120,
    ...extra,
  };
  return new SimulatedService(options);
}
const changes = (ticks: readonly Tick[]): Tick[] => ticks.filter((t) => t.replicasAfter !== t.replicasBefore);
const describeChanges = (ticks: readonly Tick[]): string => JSON.stringify(changes(ticks).map((t) => [t.nowMs / SECOND_MS, t.replicasBefore, t.replicasAfter, t.decision.reasons]));

describe('scenario: a step from 1x to 5x load', () => {
  // 1x = 8 rps (1 replica at target); at 60 s it steps to 40 rps, which needs ceil(40 / 8) = 5.
  const STEP_MS = 60 * SECOND_MS;
  const load = (tMs: number): number => (tMs < STEP_MS ? 8 : 40);
  const needed = Math.ceil(40 / TARGET_RPS);

  it('reaches the needed replicas in one panic step, at the first sync that sees the step', () => {
    const sim = simulate(load, 1);
    const before = sim.runUntil(STEP_MS);
    expect(changes(before), describeChanges(before)).toEqual([]);
    expect(before.some((t) => t.decision.panicking)).toBe(false);

    // The sync at 61 s sees the first second of 5x: 40 rps in the latest bucket, 13.3 rps over
    // the 6 s panic window, 8.5 rps over the 60 s stable window. Demand 5 >= 2 x 1 ready: panic.
    const first = sim.step();
    expect(first.nowMs).toBe(STEP_MS + SECOND_MS);
    expect(first.decision.panicking).toBe(true);
    expect(first.replicasAfter).toBe(needed);
    // The stable window alone would not have got there: its rate is within the tolerance (8.5 / 8),
    // and its p95 (400 ms: the 40 slow requests are 7.8% of 512) asks for ceil(1 x 400 / 200) = 2.
    expect(first.decision.recommendation).toBe(2);

    // Then nothing else changes for 10 minutes: no overshoot, no dip when panic ends.
    const after = sim.runUntil(STEP_MS + 10 * MINUTE_MS);
    expect(changes(after), describeChanges(after)).toEqual([]);
    expect(after.every((t) => t.replicasAfter === needed)).toBe(true);
    // Panic ends 60 s after demand last crossed the threshold (while the new replicas were starting).
    const lastPanic = after.filter((t) => t.decision.panicking).at(-1);
    expect(lastPanic?.nowMs).toBeLessThan(STEP_MS + 2 * MINUTE_MS);
    // p95 is over target while 1 replica carries 40 rps, and back under it once the 5 are ready.
    expect(first.p95Ms).toBe(400);
    const readyAllMs = first.nowMs + 2 * SECOND_MS;
    expect(after.filter((t) => t.nowMs > readyAllMs).every((t) => t.ready === needed && (t.p95Ms ?? 0) <= TARGET_P95_MS)).toBe(true);
  });

  it('without the latest 1 s window, the 6 s panic window alone ramps up in four steps (why `latest` exists)', () => {
    const sim = simulate(load, 1, {}, { withLatest: false });
    const ticks = sim.runUntil(STEP_MS + 2 * MINUTE_MS);
    // 6 s averages at 61, 62, 64, 65 s: 13.3, 18.7, 29.3, 34.7 rps. The p95 and the panic windows
    // each ask for a bit more until the window is full of the new load.
    expect(changes(ticks).map((t) => [t.nowMs / SECOND_MS, t.replicasAfter])).toEqual([[61, 2], [62, 3], [64, 4], [65, 5]]);
  });

  it('a latency-only policy reacts at the first sync and settles, with no runaway from stale latency windows', () => {
    // 2 replicas carry 40 rps at twice their capacity, which this model serves at p95 200 ms,
    // the target. Without the rule that a latency window straddling a change of the ready count
    // is missing data, the 400 ms measured on 1 replica would ask 2 ready for 4, then 4 for 8.
    const sim = simulate(load, 1, { targetRps: undefined });
    sim.runUntil(STEP_MS);
    const ticks = sim.runUntil(STEP_MS + 10 * MINUTE_MS);
    expect(changes(ticks).map((t) => [t.nowMs / SECOND_MS, t.replicasAfter])).toEqual([[61, 2]]);
    expect(ticks.filter((t) => t.nowMs > STEP_MS + 4 * SECOND_MS).every((t) => (t.p95Ms ?? 0) <= TARGET_P95_MS)).toBe(true);
  });
});

describe('scenario: steady load with +-15% noise', () => {
  // 3 replicas' worth (24 rps), each second's load drawn uniformly from 24 x [0.85, 1.15).
  // Why nothing moves: the stable recommendation reads the 60 s average, and the mean of 60
  // draws of +-15% has a standard deviation of 15% / sqrt(3) / sqrt(60) = 1.1%, far inside the
  // 0.1 tolerance. The panic threshold (2x) is far above a 1.15x second. A single low average
  // would still wait out the 300 s scale-down window.
  it('makes no scaling change over 10 minutes', () => {
    const random = seededRandom(20_241_124);
    const sim = simulate(() => 24 * (0.85 + 0.3 * random()), 3);
    const ticks = sim.runUntil(10 * MINUTE_MS);
    expect(ticks).toHaveLength(600);
    expect(changes(ticks), describeChanges(ticks)).toEqual([]);
    expect(ticks.some((t) => t.decision.panicking)).toBe(false);
    expect(ticks.every((t) => t.decision.recommendation === 3)).toBe(true);

    // The noise is real: about a third of the seconds are outside 1 +- 0.1 on their own,
    // while the 60 s average never leaves +-5%.
    const secondRatios = ticks.map((t) => (t.input.latest?.requestsPerSecond ?? 0) / 24);
    const stableRatios = ticks.map((t) => t.input.stable.requestsPerSecond / 24);
    expect(secondRatios.filter((r) => Math.abs(r - 1) > 0.1).length).toBeGreaterThan(100);
    expect(Math.max(...stableRatios.map((r) => Math.abs(r - 1)))).toBeLessThan(0.05);
  });
});

describe('scenario: load drops to zero', () => {
  // 5 replicas at 40 rps until 120 s, then nothing.
  const DROP_MS = 120 * SECOND_MS;
  const load = (tMs: number): number => (tMs < DROP_MS ? 40 : 0);
  const WINDOW_MS = 300 * SECOND_MS;

  it('scales down only after the scale-down stabilization window, to minReplicas', () => {
    const sim = simulate(load, 5, { minReplicas: 1 });
    const ticks = sim.runUntil(DROP_MS + 10 * MINUTE_MS);
    const downs = changes(ticks);
    expect(downs.length).toBeGreaterThan(0);
    // Nothing moves before the window has passed since the drop...
    expect(downs.every((t) => t.nowMs >= DROP_MS + WINDOW_MS), describeChanges(ticks)).toBe(true);
    // ...then the count walks down, never up, and within the stable window after that (the 60 s
    // average took that long to reach 0) it is at minReplicas and stays there.
    expect(downs.every((t) => t.replicasAfter < t.replicasBefore)).toBe(true);
    const atMin = ticks.find((t) => t.replicasAfter === 1);
    expect(atMin?.nowMs).toBeLessThanOrEqual(DROP_MS + WINDOW_MS + MINUTE_MS);
    expect(ticks.filter((t) => t.nowMs >= (atMin?.nowMs ?? 0)).every((t) => t.replicasAfter === 1)).toBe(true);
    expect(Math.min(...ticks.map((t) => t.replicasAfter))).toBe(1);
  });

  it('with minReplicas 0 and idleMs 600 s: to 1 after the window, to 0 once idle, back to 1 for a held request', () => {
    const IDLE_MS = 600 * SECOND_MS;
    const WAKE_MS = DROP_MS + 700 * SECOND_MS;
    const sim = simulate((tMs) => (tMs === WAKE_MS ? 3 : load(tMs)), 5, { minReplicas: 0, scaleToZero: { idleMs: IDLE_MS } });
    const ticks = sim.runUntil(WAKE_MS);
    const downs = changes(ticks);
    expect(downs.every((t) => t.nowMs >= DROP_MS + WINDOW_MS), describeChanges(ticks)).toBe(true);
    // The last request came in the second before the drop, so idle starts at DROP_MS.
    const toZero = ticks.find((t) => t.replicasAfter === 0);
    expect(toZero?.nowMs).toBe(DROP_MS + IDLE_MS);
    expect(ticks.filter((t) => t.nowMs < DROP_MS + IDLE_MS).every((t) => t.replicasAfter >= 1)).toBe(true);
    expect(ticks.at(-1)?.replicasAfter).toBe(0);

    // 3 requests arrive at zero: they are held, the next sync asks for 1, it serves them 2 s later.
    const wake = sim.step();
    expect(wake.input.heldRequests).toBe(3);
    expect(wake.replicasAfter).toBe(1);
    sim.runUntil(WAKE_MS + 5 * SECOND_MS);
    expect(sim.heldRequests).toBe(0);
    expect(sim.heldServed).toBe(3);
    expect(sim.replicas).toBe(1);
  });

  it('with minReplicas 0 and idleMs 120 s: zero at 120 s, before the scale-down window (idle is its own stabilization)', () => {
    const sim = simulate(load, 5, { minReplicas: 0, scaleToZero: { idleMs: 120 * SECOND_MS } });
    const ticks = sim.runUntil(DROP_MS + 10 * MINUTE_MS);
    expect(changes(ticks).map((t) => [t.nowMs, t.replicasBefore, t.replicasAfter])).toEqual([[DROP_MS + 120 * SECOND_MS, 5, 0]]);
  });
});
