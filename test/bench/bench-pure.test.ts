// Unit tests (no sockets) for the benchmark's pure parts: /proc/<pid>/stat parsing, settings
// bounds, and the per-round ratio arithmetic behind the printed table.
import { describe, expect, it } from 'vitest';
import type { LoadResult } from './load.js';
import { parseProcStat } from './proc-cpu.js';
import { median, renderTable, summarize, type RunSample } from './report.js';
import { parseSettings } from './settings.js';

const load = (requestsPerS: number): LoadResult => ({
  requests: requestsPerS * 5, durationS: 5, requestsPerS, p50Ms: 1, p99Ms: 3, non2xx: 0, errors: 0,
});

describe('bench: parseProcStat', () => {
  it('reads ppid and utime+stime even when the command name holds spaces and parentheses', () => {
    const line = '4242 (nginx: (worker) x) S 4241 4241 4241 0 -1 4194624 100 0 0 0 70 30 0 0 20 0 1 0 5 1 1';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 4241, cpuTicks: 100 });
  });

  it('returns undefined for a line that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});

describe('bench: parseSettings', () => {
  it('uses the defaults when nothing is given', () => {
    expect(parseSettings([], {})).toEqual({
      durationS: 5, warmupS: 1, connections: 50, rounds: 3, targets: ['bare', 'dockmaster', 'nginx'],
    });
  });

  it('lets flags win over the environment and always keeps the baseline', () => {
    const settings = parseSettings(['--rounds', '2', '--targets', 'nginx'], { BENCH_ROUNDS: '7', BENCH_DURATION_S: '3' });
    expect(settings).toMatchObject({ rounds: 2, durationS: 3, targets: ['bare', 'nginx'] });
  });

  it.each([
    ['a duration above the bound', { BENCH_DURATION_S: '500' }],
    ['a fractional connection count', { BENCH_CONNECTIONS: '2.5' }],
    ['zero rounds', { BENCH_ROUNDS: '0' }],
    ['an unknown target', { BENCH_TARGETS: 'envoy' }],
  ])('rejects %s', (_case, env) => {
    expect(() => parseSettings([], env)).toThrow();
  });
});

describe('bench: summarize', () => {
  it('takes the median of per-round ratios to the baseline of the same round', () => {
    const samples: RunSample[] = [
      { round: 1, target: 'bare', load: load(100), cpuUsPerRequest: 20 },
      { round: 1, target: 'dockmaster', load: load(90), cpuUsPerRequest: 24 },
      { round: 2, target: 'bare', load: load(110), cpuUsPerRequest: 40 },
      { round: 2, target: 'dockmaster', load: load(80), cpuUsPerRequest: 44 },
      { round: 3, target: 'bare', load: load(120), cpuUsPerRequest: 30 },
      { round: 3, target: 'dockmaster', load: load(70), cpuUsPerRequest: 39 },
    ];
    const [bare, dockmaster] = summarize(samples, ['bare', 'dockmaster'], 'bare');
    expect(bare?.cpuRatio).toBe(1);
    // Per round: 1.2, 1.1, 1.3 -> 1.2 (the ratio of medians would be 39/30 = 1.3).
    expect(dockmaster?.cpuRatio).toBeCloseTo(1.2, 10);
    expect(dockmaster?.cpuUsPerRequest).toBe(39);
    expect(dockmaster?.requestsPerS).toBe(80);
  });

  it('medians an even count as the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('renders one markdown row per target', () => {
    const table = renderTable(summarize([{ round: 1, target: 'bare', load: load(100), cpuUsPerRequest: 20 }], ['bare'], 'bare'), 'bare');
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('| bare   |   100 |');
  });
});
