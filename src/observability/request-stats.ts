// Per-request counters and latency histograms kept in plain numbers on the hot path, exposed to
// prom-client as metric objects that format themselves only when scraped. prom-client's own
// labelled children hash their label set on every call (about 1 µs per request for a counter,
// a histogram and a gauge); these cost a few array writes. No I/O.
import type { Registry } from 'prom-client';

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

export function registerScraped(registry: Registry, metric: ScrapedMetric): void {
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
