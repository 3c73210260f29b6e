// Per-request counters and latency histograms kept in plain numbers on the hot path, exposed to
// prom-client as metric objects that format themselves only when scraped. prom-client's own
// labelled children hash their label set on every call (about 1 µs per request for a counter,
// a histogram and a gauge); these cost a few array writes. No I/O.
import type { Registry } from 'prom-client';
import { LATENCY_BOUNDS_MS, LATENCY_BUCKET_COUNT, latencyBucketIndex, type RevisionTotals, ZERO_TOTALS } from './latency-histogram.js';

type Labels = Readonly<Record<string, string>>;

/** Label names of the request counter and histogram. */
export const REQUEST_LABELS = ['route', 'service', 'method', 'status_class'] as const;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** One label set's count, sum and (non-cumulative) bucket counts. */
export class StatsEntry {
  readonly labels: Labels;
  count = 0;
  sumSeconds = 0;
  readonly buckets: Float64Array;
  private readonly bounds: readonly number[];

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    this.count++;
    this.sumSeconds += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] as number) + 1;
  }
}

/** A counter and a histogram over the same label sets (requests and their durations). */
export class RequestStats {
  private readonly entries = new Map<string, StatsEntry>();
  readonly bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  /** The entry of one label set; callers cache it, so this runs once per label set. */
  entry(labels: Labels): StatsEntry {
    const key = JSON.stringify(labels);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = new StatsEntry(Object.freeze({ ...labels }), this.bounds);
      this.entries.set(key, entry);
    }
    return entry;
  }

  all(): IterableIterator<StatsEntry> {
    return this.entries.values();
  }

  reset(): void {
    for (const e of this.entries.values()) {
      e.count = 0;
      e.sumSeconds = 0;
      e.buckets.fill(0);
    }
  }
}

abstract class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  /** As prom-client metrics have it, for code that inspects label names. */
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum' as const;
  abstract readonly type: MetricData['type'];

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract values(): MetricValue[];

  async get(): Promise<MetricData> {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  async getForPromString(): Promise<MetricData> {
    return this.get();
  }

  abstract reset(): void;
}

export class RequestCounter extends ScrapedMetric {
  readonly type = 'counter' as const;
  private readonly stats: RequestStats;

  constructor(name: string, help: string, stats: RequestStats) {
    super(name, help, REQUEST_LABELS);
    this.stats = stats;
  }

  protected values(): MetricValue[] {
    return [...this.stats.all()].map((e) => ({ labels: { ...e.labels }, value: e.count }));
  }

  reset(): void {
    this.stats.reset();
  }
}

export class RequestHistogram extends ScrapedMetric {
  readonly type = 'histogram' as const;
  private readonly stats: RequestStats;

  constructor(name: string, help: string, stats: RequestStats) {
    super(name, help, REQUEST_LABELS);
    this.stats = stats;
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    const bounds = this.stats.bounds;
    for (const e of this.stats.all()) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += e.buckets[i] as number;
        out.push({ labels: { ...e.labels, le: i < bounds.length ? (bounds[i] as number) : '+Inf' }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      out.push({ labels: { ...e.labels }, value: e.sumSeconds, metricName: `${this.name}_sum` });
      out.push({ labels: { ...e.labels }, value: e.count, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    this.stats.reset();
  }
}

/** A gauge whose label sets hold plain numbers the hot path adds to. */
export class CountingGauge extends ScrapedMetric {
  readonly type = 'gauge' as const;
  private readonly cells = new Map<string, { labels: Labels; value: number }>();

  cell(labels: Labels): { value: number } {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { labels: Object.freeze({ ...labels }), value: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected values(): MetricValue[] {
    return [...this.cells.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
  }

  reset(): void {
    for (const c of this.cells.values()) c.value = 0;
  }
}

/** Label names of the per-revision request counter (the histogram has service and revision). */
export const REVISION_LABELS = ['service', 'revision', 'status_class'] as const;

/** One revision of one service: answers by status class and a fine latency histogram. */
export class RevisionCell {
  readonly labels: Readonly<{ service: string; revision: string }>;
  requests = 0;
  /** Answers by status class, index 1..5 for 1xx..5xx. */
  readonly classes = new Float64Array(6);
  /** Non-cumulative counts, indexed as latencyBucketIndex gives. */
  readonly buckets = new Float64Array(LATENCY_BUCKET_COUNT);
  sumMs = 0;
  /** When a routing table last held this revision; undefined until the first sweep. */
  lastSeenMs: number | undefined;

  constructor(service: string, revision: string) {
    this.labels = Object.freeze({ service, revision });
  }

  observe(status: number, ms: number): void {
    this.requests++;
    const classIndex = Math.min(5, Math.max(1, Math.floor(status / 100)));
    this.classes[classIndex] = (this.classes[classIndex] as number) + 1;
    const bucket = latencyBucketIndex(ms);
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.sumMs += ms;
  }

  /** A copy of the cumulative counts. */
  totals(): RevisionTotals {
    return { requests: this.requests, errors5xx: this.classes[5] as number, latencyBuckets: Array.from(this.buckets) };
  }
}

/**
 * Cells by service, then revision. A service's map is made once and never replaced, so the
 * proxy may keep it per route and reach a cell with one lookup. Cells of revisions that no
 * routing table has held for a while are dropped (see sweep), so the label set stays bounded
 * however many revisions a long-running gateway sees.
 */
export class RevisionStats {
  private readonly byService = new Map<string, Map<string, RevisionCell>>();

  /** The cells of one service, by revision (the same map object for the process lifetime). */
  forService(service: string): Map<string, RevisionCell> {
    let cells = this.byService.get(service);
    if (cells === undefined) {
      cells = new Map();
      this.byService.set(service, cells);
    }
    return cells;
  }

  cell(service: string, revision: string): RevisionCell {
    const cells = this.forService(service);
    let cell = cells.get(revision);
    if (cell === undefined) {
      cell = new RevisionCell(service, revision);
      cells.set(revision, cell);
    }
    return cell;
  }

  /** Cumulative totals of one revision (a copy); zeros for a revision never measured. */
  totals(service: string, revision: string): RevisionTotals {
    return this.byService.get(service)?.get(revision)?.totals() ?? { ...ZERO_TOTALS, latencyBuckets: [...ZERO_TOTALS.latencyBuckets] };
  }

  *all(): IterableIterator<RevisionCell> {
    for (const cells of this.byService.values()) yield* cells.values();
  }

  /**
   * Called with each new routing table: revisions it holds (by service) are seen now; a cell not
   * seen for `retentionMs` is dropped, its series with it. A cell's clock starts at the first
   * sweep that finds it, so a revision measured between two tables is kept for a while too.
   */
  sweep(present: ReadonlyMap<string, ReadonlySet<string>>, nowMs: number, retentionMs: number): void {
    for (const [service, cells] of this.byService) {
      const revisions = present.get(service);
      for (const [revision, cell] of cells) {
        if (revisions?.has(revision) === true || cell.lastSeenMs === undefined) cell.lastSeenMs = nowMs;
        else if (nowMs - cell.lastSeenMs >= retentionMs) cells.delete(revision);
      }
    }
  }

  reset(): void {
    for (const cell of this.all()) {
      cell.requests = 0;
      cell.classes.fill(0);
      cell.buckets.fill(0);
      cell.sumMs = 0;
    }
  }
}

/** Requests by service, revision and status class, from the revision cells. */
export class RevisionCounter extends ScrapedMetric {
  readonly type = 'counter' as const;
  private readonly stats: RevisionStats;

  constructor(name: string, help: string, stats: RevisionStats) {
    super(name, help, REVISION_LABELS);
    this.stats = stats;
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const cell of this.stats.all()) {
      for (let c = 1; c <= 5; c++) {
        const value = cell.classes[c] as number;
        if (value > 0) out.push({ labels: { ...cell.labels, status_class: `${c}xx` }, value });
      }
    }
    return out;
  }

  reset(): void {
    this.stats.reset();
  }
}

/**
 * Request durations by service and revision in coarse Prometheus buckets (seconds), summed at
 * scrape time from the fine ones. Exact when every coarse bound is a fine bound (see
 * ALIGNED_BOUNDS_MS); a coarse bound that is not counts the fine buckets at or below it.
 */
export class RevisionHistogram extends ScrapedMetric {
  readonly type = 'histogram' as const;
  private readonly stats: RevisionStats;
  private readonly boundsSeconds: readonly number[];
  /** For each coarse bound, the last fine bucket it covers (-1: none). */
  private readonly lastFine: readonly number[];

  constructor(name: string, help: string, stats: RevisionStats, boundsSeconds: readonly number[]) {
    super(name, help, ['service', 'revision']);
    this.stats = stats;
    this.boundsSeconds = boundsSeconds;
    this.lastFine = boundsSeconds.map((seconds) => {
      const ms = seconds * 1000;
      let last = -1;
      for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if ((LATENCY_BOUNDS_MS[i] as number) <= ms * (1 + 1e-9)) last = i;
      return last;
    });
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const cell of this.stats.all()) {
      let fine = 0;
      let cumulative = 0;
      for (let b = 0; b < this.boundsSeconds.length; b++) {
        const upTo = this.lastFine[b] as number;
        for (; fine <= upTo; fine++) cumulative += cell.buckets[fine] as number;
        out.push({ labels: { ...cell.labels, le: this.boundsSeconds[b] as number }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      out.push({ labels: { ...cell.labels, le: '+Inf' }, value: cell.requests, metricName: `${this.name}_bucket` });
      out.push({ labels: { ...cell.labels }, value: cell.sumMs / 1000, metricName: `${this.name}_sum` });
      out.push({ labels: { ...cell.labels }, value: cell.requests, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    this.stats.reset();
  }
}

export function registerScraped(registry: Registry, metric: ScrapedMetric): void {
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
