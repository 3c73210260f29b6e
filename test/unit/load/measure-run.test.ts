import { describe, expect, it } from 'vitest';
import type { RequestRecord, ServiceRecord } from '../../../test/load/load-records.js';
import { isFailed, measureRun } from '../../../test/load/measure-run.js';

const START = 1_000_000;

function answer(atOffsetMs: number, latencyMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { atMs: START + atOffsetMs, latencyMs, status: 200, revision: 'r1', replica: 'demo-1', version: '1', ...extra };
}

describe('isFailed (k6: outside 200-399, or no answer)', () => {
  it.each([
    [200, false],
    [302, false],
    [399, false],
    [404, true],
    [500, true],
    [503, true],
    [0, true],
  ])('status %i -> failed %s', (status, failed) => {
    expect(isFailed(answer(0, 1, { status }))).toBe(failed);
  });
});

describe('measureRun', () => {
  it('computes the k6 built-ins: requests, failure rate, durations, two checks per request, dropped', () => {
    const requests = [answer(0, 3), answer(10, 1), answer(20, 2, { status: 500, replica: 'demo-1' }), answer(30, 9, { status: 0, revision: undefined, replica: undefined, error: 'ECONNRESET' })];
    const metrics = measureRun({ requests, dropped: 2, startMs: START, endMs: START + 2_000 });
    expect(metrics['http_reqs']).toEqual({ kind: 'counter', count: 4, durationMs: 2_000 });
    expect(metrics['http_req_failed']).toEqual({ kind: 'rate', passes: 2, total: 4 });
    expect(metrics['http_req_duration']).toEqual({ kind: 'trend', sorted: [1, 2, 3, 9] });
    // status 200: 2 of 4; body names a replica: 3 of 4.
    expect(metrics['checks']).toEqual({ kind: 'rate', passes: 5, total: 8 });
    expect(metrics['dropped_iterations']).toEqual({ kind: 'counter', count: 2, durationMs: 2_000 });
  });

  it('leaves the scenario metrics out unless the scenario measures them (so their thresholds fail as "not measured")', () => {
    const metrics = measureRun({ requests: [answer(0, 1)], dropped: 0, startMs: START, endMs: START + 1_000 });
    expect(Object.keys(metrics).sort()).toEqual(['checks', 'dropped_iterations', 'http_req_duration', 'http_req_failed', 'http_reqs']);
  });

  it('spike: only requests due from the recovery stage on count as after the spike', () => {
    const requests = [answer(0, 100), answer(6_999, 80), answer(7_000, 4), answer(9_000, 6)];
    const metrics = measureRun({ requests, dropped: 0, startMs: START, endMs: START + 10_000, afterSpikeFromMs: 7_000 });
    expect(metrics['after_spike_req_duration']).toEqual({ kind: 'trend', sorted: [4, 6] });
  });

  it('spike: replica growth is every poll\'s ready replicas minus the ready ones at the start', () => {
    const poll = (atMs: number, ready: number): ServiceRecord => ({ atMs, replicas: [{ revision: 'r1', ready, active: ready }], weights: [] });
    const metrics = measureRun({ requests: [], dropped: 0, startMs: START, endMs: START + 1, replicaGrowth: { initialReady: 3, services: [poll(1, 3), poll(2, 5), poll(3, 4)] } });
    expect(metrics['replica_growth']).toEqual({ kind: 'trend', sorted: [0, 1, 2] });
  });

  it('canary: the share counts answers due inside the window that name a revision', () => {
    const requests = [
      answer(0, 1, { revision: 'new' }), // before the window
      answer(100, 1, { revision: 'new' }),
      answer(200, 1, { revision: 'old' }),
      answer(300, 1, { revision: 'old' }),
      answer(400, 1, { revision: undefined, status: 503 }), // no demo answer: not counted
      answer(500, 1, { revision: 'old' }),
      answer(600, 1, { revision: 'new' }), // at the end of the window: outside
    ];
    const metrics = measureRun({ requests, dropped: 0, startMs: START, endMs: START + 1_000, canary: { revision: 'new', fromMs: START + 100, toMs: START + 600 }, rolloutsSucceeded: 1 });
    expect(metrics['canary_share']).toEqual({ kind: 'rate', passes: 1, total: 4 });
    expect(metrics['rollouts_succeeded']).toEqual({ kind: 'counter', count: 1, durationMs: 1_000 });
  });
});
