// Unit tests (no sockets) for the pure parts of `npm run bench:hosts`: settings bounds, telling a
// replacement's answers from its lost predecessor's, window counts, and the verdict lines.
import { describe, expect, it } from 'vitest';
import type { HostsSample } from './hosts-load.js';
import { firstAnswers, hostsVerdicts, inFlightAt, renderHostsTable, windowCounts, type RoundResult } from './hosts-report.js';
import { parseHostsSettings } from './hosts-settings.js';

const sample = (atMs: number, endMs: number, status: number, replica?: string, port?: number): HostsSample => ({ atMs, endMs, status, replica, port });

const round = (over: Partial<RoundResult> = {}): RoundResult => ({
  round: 1,
  host: 'node-c',
  lost: 2,
  targetMs: 7_000,
  killToLostMs: 4_100,
  killToReadyMs: 4_400,
  killToAnsweredMs: 4_450,
  requestsDuring: 1_300,
  failedDuring: 0,
  failedTotal: 0,
  requestsTotal: 2_000,
  cutInFlight: 2,
  refused: 8,
  retries: 10,
  budgetExhausted: 0,
  clientInFlightAtKill: 7,
  skipped: 0,
  ...over,
});

describe('bench:hosts settings', () => {
  it('defaults to the gateway\'s own host timing and a 300 req/s open loop', () => {
    expect(parseHostsSettings([], {})).toMatchObject({ rounds: 3, rate: 300, hostCheckIntervalMs: 1_000, hostDownAfterMs: 5_000, placementOnly: false });
  });

  it('takes flags over environment variables, and refuses hostDownAfterMs not above the check interval', () => {
    expect(parseHostsSettings(['--rounds', '2'], { BENCH_ROUNDS: '5', BENCH_RATE: '100' })).toMatchObject({ rounds: 2, rate: 100 });
    expect(() => parseHostsSettings(['--host-down-after', '500', '--host-check-interval', '500'], {})).toThrow(/must be greater than/);
    expect(() => parseHostsSettings(['--rounds', '0'], {})).toThrow(/--rounds/);
  });
});

describe('bench:hosts report', () => {
  it('counts a replacement\'s first answer only on a new port, after the kill', () => {
    const lost = [
      { id: 'w1', oldPort: 4001, readyAtMs: undefined },
      { id: 'w2', oldPort: 4002, readyAtMs: undefined },
    ];
    const samples = [
      sample(990, 1_005, 200, 'w1', 4001), // the old copy, answering just after the kill
      sample(1_200, 1_300, 200, 'w1', 5001),
      sample(1_100, 1_250, 200, 'w1', 5001),
      sample(1_400, 1_420, 502),
      sample(1_500, 1_510, 200, 'w3', 4003),
    ];
    expect(firstAnswers(samples, lost, 1_000)).toEqual(new Map([['w1', 1_250]]));
  });

  it('counts requests sent in a window and those in flight at a moment', () => {
    const samples = [sample(0, 50, 200), sample(90, 130, 0), sample(100, 120, 502), sample(150, 160, 200)];
    expect(windowCounts(samples, 90, 150)).toEqual({ requests: 2, failed: 2 });
    expect(inFlightAt(samples, 100)).toBe(2);
  });

  it('meets both targets when replacements serve in time and nothing failed', () => {
    expect(hostsVerdicts([round()])).toEqual([
      'replacements serving within hostDownAfterMs + 2 s (7000 ms): met (worst round 0.64x of the target)',
      'failed requests at most those in flight on the dead host (attempts cut there), per round: met (failed / cut in flight: 0/2)',
      'no failed GET (retries): met',
    ]);
  });

  it('names the rounds over a bound, and the retries the budget refused', () => {
    const lines = hostsVerdicts([round({ killToReadyMs: 7_700, killToAnsweredMs: 7_000 }), round({ round: 2, failedTotal: 3, cutInFlight: 1, budgetExhausted: 3 })]);
    expect(lines[0]).toBe('replacements serving within hostDownAfterMs + 2 s (7000 ms): NOT met (worst round 1.10x of the target)');
    expect(lines[1]).toBe('failed requests at most those in flight on the dead host (attempts cut there), per round: NOT met in round(s) 2 (failed / cut in flight: 0/2, 3/1)');
    expect(lines[2]).toMatch(/^no failed GET \(retries\): NOT met: 3 failed, 3 retries refused by the proxy's retry budget/);
  });

  it('renders one row per round and a median row', () => {
    const table = renderHostsTable([round(), round({ round: 2, killToReadyMs: 4_600 }), round({ round: 3, killToReadyMs: 4_500 })]).split('\n');
    expect(table).toHaveLength(2 + 3 + 1);
    expect(table[5]).toMatch(/^\| median \(counts: totals\) \| \| 6 \| 4100 \| 4500 \| 4450 \| 7000 \| 0\.64x \| 3900 \| 0 \| 6 \| 24 \| 30 \| 0 \|$/);
  });
});
