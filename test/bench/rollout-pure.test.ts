// Unit tests (no sockets) for the rollout benchmark's pure parts: settings bounds, the event
// timeline arithmetic, load windows and percentiles, the summary and /metrics counter sums.
import { describe, expect, it } from 'vitest';
import type { Sample } from './rollout-load.js';
import { percentile, sumCounters, summarizeRollouts, verdicts, windowStats, type RoundResult } from './rollout-report.js';
import { parseRolloutSettings } from './rollout-settings.js';
import { analyzeRollout, formatTimeline, listeningTimes, uncoveredMs, type TimelineEntry } from './rollout-timeline.js';

describe('bench:rollout: parseRolloutSettings', () => {
  it('uses the defaults when nothing is given', () => {
    expect(parseRolloutSettings([], {})).toEqual({
      rounds: 3, beforeS: 5, afterS: 1, connections: 8, rate: 1000,
      scenarios: ['rolling-1-0', 'rolling-25', 'blue-green'], timeline: false, keepLogs: false,
    });
  });

  it('lets flags win over the environment and keeps the scenarios in their own order', () => {
    const settings = parseRolloutSettings(['--rounds', '1', '--scenarios', 'blue-green,rolling-1-0', '--rate', '0'], { BENCH_ROUNDS: '7', BENCH_BEFORE_S: '2' });
    expect(settings).toMatchObject({ rounds: 1, beforeS: 2, rate: 0, scenarios: ['rolling-1-0', 'blue-green'] });
  });

  it.each([
    ['zero rounds', ['--rounds', '0']],
    ['a fractional rate', ['--rate', '1.5']],
    ['an unknown scenario', ['--scenarios', 'canary']],
  ])('refuses %s', (_name, argv) => {
    expect(() => parseRolloutSettings(argv, {})).toThrow();
  });
});

const ev = (seq: number, atMs: number, type: string, data: Record<string, unknown>): TimelineEntry => ({ seq, atMs, type, message: '', data });

describe('bench:rollout: analyzeRollout', () => {
  // The worked example of analyzeRollout's doc comment.
  const events = [
    ev(1, 1002, 'rollout.started', { rollout: 'demo#1', from: 'r1', to: 'r2' }),
    ev(2, 1080, 'replica.started', { replica: 'a', revision: 'r2' }),
    ev(3, 1082, 'health.changed', { replica: 'a', healthy: true }),
    ev(4, 1082, 'replica.draining', { replica: 'old1', revision: 'r1' }),
    ev(5, 1090, 'replica.stopped', { replica: 'old1', revision: 'r1' }),
    ev(6, 1160, 'replica.started', { replica: 'b', revision: 'r2' }),
    ev(7, 1161, 'health.changed', { replica: 'b', healthy: true }),
    ev(8, 1165, 'rollout.succeeded', { rollout: 'demo#1', phase: 'Succeeded' }),
    ev(9, 1170, 'replica.stopped', { replica: 'old2', revision: 'r1' }),
  ];
  const spawnAtMs = new Map([['a', 1003], ['b', 1085]]);

  it('sums start-to-healthy and spawn-to-healthy over the new replicas and finds the idle time', () => {
    const t = analyzeRollout({ events, putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs });
    expect(t).toMatchObject({ rolloutId: 'demo#1', startedAtMs: 1002, endType: 'rollout.succeeded', endedAtMs: 1165, oldGoneAtMs: 1170 });
    expect(t.startToHealthySumMs).toBe(3);
    expect(t.spawnToHealthySumMs).toBe(155);
    expect(t.idleMs).toBe(10);
  });

  it('measures the reaction lag of a rolling update from the steps that count each new replica', () => {
    const rolling = [
      ev(1, 1002, 'rollout.started', { rollout: 'demo#1', from: 'r1', to: 'r2', strategy: 'rolling' }),
      ev(2, 1080, 'replica.started', { replica: 'a', revision: 'r2' }),
      ev(3, 1082, 'health.changed', { replica: 'a', healthy: true }),
      ev(4, 1090, 'replica.started', { replica: 'b', revision: 'r2' }),
      ev(5, 1100, 'health.changed', { replica: 'b', healthy: true }),
      // a start of another replica held the reconcile: a and b are counted together, late
      ev(6, 1150, 'rollout.step', { rollout: 'demo#1', step: 2 }),
      ev(7, 1200, 'replica.started', { replica: 'c', revision: 'r2' }),
      ev(8, 1201, 'health.changed', { replica: 'c', healthy: true }),
      ev(9, 1202, 'rollout.step', { rollout: 'demo#1', step: 3 }),
      ev(10, 1210, 'rollout.succeeded', { rollout: 'demo#1' }),
    ];
    const t = analyzeRollout({ events: rolling, putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs: new Map() });
    expect(t.reactionLagMs).toBe((1150 - 1082) + (1150 - 1100) + (1210 - 1201));
  });

  it('measures the reaction lag of other strategies from the last new replica turning healthy to the end', () => {
    const t = analyzeRollout({ events, putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs });
    expect(t.reactionLagMs).toBe(1165 - 1161);
  });

  it('ignores replicas of other revisions and health changes to unhealthy', () => {
    const extra = [...events, ev(10, 1100, 'replica.started', { replica: 'c', revision: 'r3' }), ev(11, 1101, 'health.changed', { replica: 'a', healthy: false })];
    const t = analyzeRollout({ events: extra, putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs });
    expect(t.replicas.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('has no end and no idle time when the rollout never ended', () => {
    const t = analyzeRollout({ events: events.slice(0, 7), putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs });
    expect(t.endType).toBeUndefined();
    expect(t.idleMs).toBeNaN();
  });

  it('splits spawn-to-started at the replica\'s own "listening" line', () => {
    const listeningAtMs = new Map([['a', 1050], ['b', 1140]]);
    const t = analyzeRollout({ events, putAtMs: 1000, oldRevision: 'r1', newRevision: 'r2', spawnAtMs, listeningAtMs });
    expect({ boot: t.bootSumMs, detect: t.detectSumMs }).toEqual({ boot: 47 + 55, detect: 30 + 20 });
  });

  it('prints spawns and listening lines between the events, times relative to the PUT', () => {
    const lines = formatTimeline(events.slice(0, 3), 1000, new Map([['a', 1003]]), new Map([['a', 1050], ['other', 1051]]));
    expect(lines.map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '))).toEqual([
      '+ 2 ms rollout.started', '+ 3 ms (spawn)', '+ 50 ms (listening)', '+ 80 ms replica.started', '+ 82 ms health.changed',
    ]);
  });

  it('reads when each replica logged that it listens from the gateway\'s log', () => {
    const log = [
      '{"level":30,"time":1500,"replica":"a","stream":"stdout","msg":"demo-app: demo/a revision r2 listening on 127.0.0.1:4000"}',
      '{"level":30,"time":1501,"replica":"a","msg":"replica started"}',
      '{"level":30,"time":1600,"replica":"a","stream":"stdout","msg":"demo-app: demo/a revision r2 listening on 127.0.0.1:4001"}',
      '{"level":30,"time":17',
    ].join('\n');
    expect([...listeningTimes(log)]).toEqual([['a', 1500]]);
  });
});

describe('bench:rollout: uncoveredMs', () => {
  it.each([
    ['no intervals', [], 100],
    ['one interval inside', [[10, 30]], 80],
    ['overlapping intervals count once', [[10, 30], [20, 50]], 60],
    ['intervals clipped to the window', [[-10, 10], [90, 200]], 80],
  ] as const)('%s', (_name, intervals, expected) => {
    expect(uncoveredMs(0, 100, intervals)).toBe(expected);
  });
});

const sample = (atMs: number, latencyMs: number, status = 200, version = '1'): Sample => ({ atMs, latencyMs, status, version: status === 200 ? version : undefined });

describe('bench:rollout: windows and percentiles', () => {
  it('takes the nearest-rank percentile', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBeNaN();
  });

  it('counts requests by their send time, non-2xx and transport errors as failed', () => {
    const samples = [sample(5, 1), sample(10, 2), sample(11, 9, 502), sample(12, 3, 0), sample(20, 4, 200, '2'), sample(30, 1)];
    const w = windowStats(samples, 10, 30);
    expect(w).toMatchObject({ requests: 4, failed: 2, transportErrors: 1, maxMs: 9 });
    expect([...w.byVersion]).toEqual([['1', 1], ['2', 1]]);
  });
});

const window = (p99Ms: number, requests = 100, failed = 0): RoundResult['before'] => ({
  requests, failed, transportErrors: 0, p50Ms: 1, p99Ms, maxMs: p99Ms, byVersion: new Map(), failureExamples: [],
});

const round = (n: number, rolloutMs: number, startSumMs: number, p99Before: number, p99During: number, failedAfter = 0): RoundResult => ({
  scenario: 'rolling-1-0', round: n, succeeded: true, rolloutMs, polledRolloutMs: rolloutMs, startToHealthySumMs: startSumMs / 4,
  spawnToHealthySumMs: startSumMs, bootSumMs: 0, detectSumMs: 0, putToStartedMs: 0, idleMs: 10, reactionLagMs: 0, oldGoneMs: rolloutMs, before: window(p99Before), during: window(p99During), after: window(1, 100, failedAfter),
  retries: 0, upstreamErrors: 0, skipped: 0,
});

describe('bench:rollout: summarizeRollouts and verdicts', () => {
  it('takes medians of per-round ratios and totals of failures', () => {
    const [s] = summarizeRollouts([round(1, 1000, 400, 2, 4), round(2, 1200, 1000, 2, 2), round(3, 900, 300, 1, 3, 2)], ['rolling-1-0']);
    expect(s).toMatchObject({ rounds: 3, rolloutMs: 1000, spawnTimeRatio: 2.5, timeRatio: 10, p99Ratio: 2, failedAfter: 2, failedDuring: 0 });
    expect(verdicts(s === undefined ? [] : [s])).toEqual([
      expect.stringContaining('zero failed requests during and after the rollout: FAIL'),
      expect.stringContaining('rollout time ≤ 2x Σ replica start→healthy: FAIL (2.50x'),
    ]);
  });
});

describe('bench:rollout: sumCounters', () => {
  it('sums every label set of a counter and no counter whose name only starts the same', () => {
    const text = [
      '# HELP dockmaster_proxy_retries_total Retries',
      'dockmaster_proxy_retries_total{reason="connect"} 2',
      'dockmaster_proxy_retries_total{reason="reset"} 3',
      'dockmaster_proxy_retries_total_other 100',
      'dockmaster_proxy_upstream_errors_total 1',
    ].join('\n');
    expect(sumCounters(text, ['dockmaster_proxy_retries_total', 'dockmaster_proxy_upstream_errors_total', 'missing_total'])).toEqual({
      dockmaster_proxy_retries_total: 5, dockmaster_proxy_upstream_errors_total: 1, missing_total: 0,
    });
  });
});
