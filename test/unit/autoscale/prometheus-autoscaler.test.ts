// The autoscaler shell with a metric source (a fake standing for Prometheus): the source's window
// drives decisions, reads never overlap, a failed read keeps the last good window for
// SOURCE_STALE_SYNCS syncs and then nothing is scaled, the streak is logged once. No sockets.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Autoscaler, SOURCE_STALE_SYNCS, type ScaleTarget } from '../../../src/autoscale/autoscaler.js';
import type { MetricSource, SourceRead } from '../../../src/autoscale/prometheus-source.js';
import { toMetricWindow } from '../../../src/autoscale/prometheus-response.js';
import { validateAutoscalePolicy } from '../../../src/config/autoscale-schema.js';
import type { AutoscalePolicy } from '../../../src/model/autoscale.js';
import { EventLog } from '../../../src/observability/event-log.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { emptyLatencyBuckets } from '../../../src/observability/latency-histogram.js';

const policy = (fields: Record<string, unknown> = {}): AutoscalePolicy => {
  const result = validateAutoscalePolicy(
    {
      maxReplicas: 10,
      targetRps: 50,
      // Syncs are driven by the test; the timer never fires within it.
      syncIntervalMs: 60_000,
      source: { prometheus: { address: 'http://127.0.0.1:1', queries: { rps: 'sum(rate(x[30s]))' } } },
      ...fields,
    },
    'policies/app.yaml',
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
};

/** A source whose reads the test answers one by one. */
class FakeSource implements MetricSource {
  reads = 0;
  closed = false;
  private pending: Array<(read: SourceRead) => void> = [];
  read(): Promise<SourceRead> {
    this.reads += 1;
    return new Promise((resolve) => this.pending.push(resolve));
  }
  close(): void {
    this.closed = true;
  }
  answer(read: SourceRead): void {
    const next = this.pending.shift();
    if (next === undefined) throw new Error('no read in flight');
    next(read);
  }
  get inFlight(): number {
    return this.pending.length;
  }
}

const rps = (value: number): SourceRead => ({ ok: true, window: toMetricWindow({ rps: value }, 60_000) });
const failed: SourceRead = { ok: false, error: "query 'rps': request failed: connect ECONNREFUSED" };
const flush = () => new Promise((resolve) => setImmediate(resolve));

function harness(p: AutoscalePolicy, initialReplicas = 1) {
  let nowMs = 1_000_000;
  let held = 0;
  const source = new FakeSource();
  const set: Array<number | undefined> = [];
  const logs: Array<Record<string, unknown>> = [];
  const target = new (class implements ScaleTarget {
    desiredReplicas = initialReplicas;
    readyReplicas(): number {
      return this.desiredReplicas;
    }
    setDesiredReplicas(replicas: number | undefined): void {
      set.push(replicas);
      if (replicas !== undefined) this.desiredReplicas = replicas;
    }
  })();
  const events = new EventLog();
  const autoscaler = new Autoscaler({
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } }),
    metrics: createMetrics(new Registry()),
    events,
    totals: () => ({ requests: 0, errors5xx: 0, latencyBuckets: emptyLatencyBuckets() }),
    inFlight: () => 0,
    held: () => held,
    target: () => target,
    nowMs: () => nowMs,
    metricSource: () => source,
  });
  return {
    autoscaler,
    source,
    target,
    set,
    logs,
    events: (type: string) => events.list().filter((e) => e.type === type),
    /** Moves the clock past every rate-limit period, then syncs. */
    sync: () => {
      nowMs += 20_000;
      autoscaler.sync('app');
    },
    setHeld: (n: number) => {
      held = n;
    },
  };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('Autoscaler with a metric source', () => {
  it('decides from the source window for both the stable and the panic input', async () => {
    const h = harness(policy());
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', policy()]]));
    expect(h.source.reads).toBe(1);
    h.source.answer(rps(200));
    await flush();
    // 1 replica at 200 rps, 50 per replica: 4 replicas, in one step (panic: 4x >= 2x).
    expect(h.set).toEqual([4]);
    const [scaled] = h.events('autoscale.scaled');
    expect(scaled?.data).toMatchObject({ from: 1, to: 4, rps: 200, panicRps: 200, panicking: true });
  });

  it('never overlaps reads: syncs while one is in flight are skipped', async () => {
    const h = harness(policy());
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', policy()]]));
    h.sync();
    h.sync();
    expect(h.source.reads).toBe(1);
    h.source.answer(rps(50));
    await flush();
    h.sync();
    expect(h.source.reads).toBe(2);
    expect(h.source.inFlight).toBe(1);
  });

  it(`keeps the last good window for ${SOURCE_STALE_SYNCS} failed reads, then scales nothing, logging the streak once`, async () => {
    const h = harness(policy());
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', policy()]]));
    h.source.answer(rps(100));
    await flush();
    expect(h.set).toEqual([2]);
    const decidedAfterFailure: boolean[] = [];
    for (let i = 1; i <= SOURCE_STALE_SYNCS + 2; i++) {
      // Someone else moved the count back: a decision made from data sets it to 2 again.
      h.target.desiredReplicas = 1;
      h.set.length = 0;
      h.sync();
      h.source.answer(failed);
      await flush();
      decidedAfterFailure.push(h.set.length > 0);
    }
    expect(decidedAfterFailure).toEqual([true, true, true, false, false]);
    expect(h.events('autoscale.source-error')).toHaveLength(1);
    expect(h.events('autoscale.source-error')[0]?.message).toContain('ECONNREFUSED');
    expect(h.logs.filter((l) => l['msg'] === 'autoscale source error')).toHaveLength(1);

    h.sync();
    h.source.answer(rps(100));
    await flush();
    expect(h.set).toEqual([2]);
    expect(h.events('autoscale.source-recovered')).toHaveLength(1);
    // A new streak is logged again.
    h.sync();
    h.source.answer(failed);
    await flush();
    expect(h.events('autoscale.source-error')).toHaveLength(2);
  });

  it('decides nothing when the first read fails (no last good window)', async () => {
    const h = harness(policy());
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', policy()]]));
    h.source.answer(failed);
    await flush();
    expect(h.set).toEqual([]);
    expect(h.events('autoscale.source-error')[0]?.data).toMatchObject({ hasLastGood: false });
  });

  it('still starts a replica for requests held at zero while the source has no data', async () => {
    const p = policy({ minReplicas: 0, scaleToZero: { idleMs: 60_000 } });
    const h = harness(p, 0);
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', p]]));
    h.source.answer(failed);
    await flush();
    expect(h.set).toEqual([]);
    h.setHeld(3);
    h.sync();
    h.source.answer(failed);
    await flush();
    expect(h.set).toEqual([1]);
    expect(h.events('autoscale.scaled')[0]?.message).toBe('app 0 -> 1: 3 request(s) held with no replica; the metric source has no data');
  });

  it('drops the answer of a read for a policy removed meanwhile, and closes its source', async () => {
    const h = harness(policy());
    close = () => h.autoscaler.close();
    h.autoscaler.apply(new Map([['app', policy()]]));
    h.autoscaler.apply(new Map());
    expect(h.source.closed).toBe(true);
    h.set.length = 0;
    h.source.answer(rps(500));
    await flush();
    expect(h.set).toEqual([]);
  });
});
