import { describe, expect, it } from 'vitest';
import { buildChartData, chooseBucketMs, isMarked, markerLabel } from '../../../test/load/chart-data.js';
import type { RequestRecord, ServiceRecord, TimelineRecord } from '../../../test/load/load-records.js';

const START = 5_000_000;

function req(atOffsetMs: number, latencyMs: number, revision: string | undefined, status = 200): RequestRecord {
  return { atMs: START + atOffsetMs, latencyMs, status, revision, replica: revision === undefined ? undefined : `${revision}-x`, version: revision === undefined ? undefined : `v-${revision}` };
}

function poll(atOffsetMs: number, replicas: Record<string, number>, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return { atMs: START + atOffsetMs, replicas: Object.entries(replicas).map(([revision, ready]) => ({ revision, ready, active: ready })), weights: [], ...extra };
}

describe('chooseBucketMs', () => {
  it.each([
    [3_000, 250],
    [30_000, 250],
    [30_001, 500],
    [120_000, 1_000],
    [600_000, 5_000],
    [10 * 3_600_000, 60_000],
  ])('%i ms of load -> %i ms buckets (at most 120 of them)', (durationMs, bucketMs) => {
    expect(chooseBucketMs(durationMs)).toBe(bucketMs);
  });
});

describe('buildChartData', () => {
  it('counts requests and failures per second of each bucket, by scheduled time', () => {
    // 2 s, 1 s buckets: 4 requests in the first second (one failed), 2 in the second.
    const requests = [req(0, 1, 'a'), req(250, 2, 'a'), req(500, 3, 'a', 500), req(750, 40, 'a'), req(1_000, 5, 'a'), req(1_500, 6, 'a')];
    const chart = buildChartData({ requests, services: [], events: [], startMs: START, endMs: START + 2_000, bucketMs: 1_000 });
    expect(chart.requests[0]?.points).toEqual([
      [0.5, 4],
      [1.5, 2],
    ]);
    expect(chart.errors[0]?.points).toEqual([
      [0.5, 1],
      [1.5, 0],
    ]);
    expect(chart.latency[0]?.points[0]?.[1]).toBeCloseTo(34.45, 9); // p95 of 1, 2, 3, 40
    expect(chart.durationSeconds).toBe(2);
  });

  it('joins a last stretch shorter than half a bucket to the bucket before, so a few ms do not show as a burst', () => {
    const requests = [req(0, 1, 'a'), req(500, 1, 'a'), req(1_001, 1, 'a')];
    const chart = buildChartData({ requests, services: [], events: [], startMs: START, endMs: START + 1_002, bucketMs: 500 });
    expect(chart.requests[0]?.points.map(([, y]) => y)).toEqual([2, expect.closeTo(2 / 0.502, 6) as number]);
  });

  it('stacks the share of the answers per revision to 100% over each bucket, in order of first appearance', () => {
    const requests = [req(0, 1, 'old'), req(100, 1, 'old'), req(600, 1, 'old'), req(700, 1, 'new'), req(800, 1, 'new'), req(900, 1, 'new'), req(950, 1, undefined, 503)];
    const chart = buildChartData({ requests, services: [], events: [], startMs: START, endMs: START + 1_000, bucketMs: 500 });
    expect(chart.revisions.map((r) => r.label)).toEqual(['old (version v-old)', 'new (version v-new)']);
    const [oldBand, newBand] = chart.share;
    expect(oldBand?.points).toEqual([
      [0, 0, 100],
      [0.5, 0, 100],
      [0.5, 0, 25],
      [1, 0, 25],
    ]);
    expect(newBand?.points).toEqual([
      [0, 100, 100],
      [0.5, 100, 100],
      [0.5, 25, 100],
      [1, 25, 100],
    ]);
  });

  it('stacks ready replicas per revision from the polls, and charts active and desired replicas', () => {
    const services = [poll(0, { old: 3 }, { desiredReplicas: 3 }), poll(500, { old: 3, new: 1 }, { desiredReplicas: 3 }), poll(1_000, { new: 3 }, { desiredReplicas: 3 })];
    const chart = buildChartData({ requests: [], services, events: [], startMs: START, endMs: START + 1_000 });
    const bands = Object.fromEntries(chart.replicaBands.map((b) => [b.name, b.points]));
    expect(bands['old ready']).toEqual([
      [0, 0, 3],
      [0.5, 0, 3],
      [0.5, 0, 3],
      [1, 0, 3],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    expect(bands['new ready']?.slice(2, 6)).toEqual([
      [0.5, 3, 4],
      [1, 3, 4],
      [1, 0, 3],
      [1, 0, 3],
    ]);
    expect(chart.replicas.map((s) => [s.name, s.points.map(([, y]) => y)])).toEqual([
      ['active (starting + ready)', [3, 4, 3]],
      ['desired', [3, 3, 3]],
    ]);
  });

  it('draws the weights the gateway set while a rollout splits traffic', () => {
    const services = [poll(0, { old: 2 }), poll(500, { old: 2, new: 1 }, { weights: [{ revision: 'old', percent: 80 }, { revision: 'new', percent: 20 }] })];
    const chart = buildChartData({ requests: [], services, events: [], startMs: START, endMs: START + 1_000 });
    expect(chart.weights.map((s) => [s.name, s.points])).toEqual([
      ['old weight', [[0.5, 80]]],
      ['new weight', [[0.5, 20]]],
    ]);
  });

  it('marks rollout, scaling and the runner\'s own events, not every replica and health change', () => {
    const events: TimelineRecord[] = [
      { atMs: START + 100, type: 'rollout.started', message: 'demo#1 a -> b (rolling)', data: { rollout: 'demo#1', strategy: 'rolling' } },
      { atMs: START + 200, type: 'replica.started', message: 'x' },
      { atMs: START + 300, type: 'health.changed', message: 'x' },
      { atMs: START + 400, type: 'autoscale.scaled', message: 'demo 2 -> 4: ...', data: { from: 2, to: 4 } },
      { atMs: START + 500, type: 'load.put', message: 'PUT rolling: version v2, revision b' },
      { atMs: START + 900, type: 'rollout.succeeded', message: 'demo#1 Succeeded', data: { rollout: 'demo#1' } },
      { atMs: START + 60_000, type: 'rollout.started', message: 'long after the run' },
    ];
    const chart = buildChartData({ requests: [], services: [], events, startMs: START, endMs: START + 1_000 });
    expect(chart.markers.map((m) => [m.xSeconds, m.label])).toEqual([
      [0.1, 'demo#1 rolling start'],
      [0.4, 'scaled 2→4'],
      [0.5, 'PUT rolling'],
      [0.9, 'demo#1 succeeded'],
    ]);
  });
});

describe('markerLabel and isMarked', () => {
  it('labels weights with short revisions', () => {
    const event: TimelineRecord = { atMs: 0, type: 'rollout.weights', message: '', data: { weights: [{ revision: 'aaaa1111', percent: 80 }, { revision: 'bbbb2222', percent: 20 }] } };
    expect(markerLabel(event)).toBe('weights aaaa 80%/bbbb 20%');
  });

  it('labels panic mode changes', () => {
    expect(markerLabel({ atMs: 0, type: 'autoscale.panic', message: '', data: { panicking: true } })).toBe('panic on');
  });

  it('marks load.* and rollout.* outcomes, not replica events', () => {
    expect(isMarked('load.anything')).toBe(true);
    expect(isMarked('rollout.aborted')).toBe(true);
    expect(isMarked('rollout.step')).toBe(false);
    expect(isMarked('replica.stopped')).toBe(false);
  });
});
