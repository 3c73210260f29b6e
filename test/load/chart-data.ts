// The report's data over time: requests cut into time buckets (requests/s, errors/s, p95 latency,
// share of the answers per revision), replicas per revision from the admin API polls, and the
// rollout and scaling events to mark. Times are seconds from the start of the load. Pure.
import type { RequestRecord, ServiceRecord, TimelineRecord } from './load-records.js';
import { isFailed } from './measure-run.js';
import { quantile, sortedCopy } from './quantile.js';

/** Bucket widths the report picks from: the smallest that gives at most MAX_BUCKETS buckets. */
export const BUCKET_CHOICES_MS = [250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000] as const;
export const MAX_BUCKETS = 120;

export function chooseBucketMs(durationMs: number): number {
  for (const choice of BUCKET_CHOICES_MS) if (Math.ceil(durationMs / choice) <= MAX_BUCKETS) return choice;
  return BUCKET_CHOICES_MS[BUCKET_CHOICES_MS.length - 1] ?? 60_000;
}

export type Point = readonly [xSeconds: number, y: number];

export interface Series {
  readonly name: string;
  /** Index into the report's palette (svg-chart.ts colorFor): -2 reference, -1 errors, 0 totals,
   * 1.. revisions; the same revision keeps its color on every chart. */
  readonly colorIndex: number;
  readonly points: readonly Point[];
  /** step: the value holds until the next point (polled state); line: straight segments. */
  readonly shape: 'line' | 'step';
  readonly dashed?: boolean | undefined;
}

/** A stacked band: for each bucket, the lower and upper edge (percent). */
export interface Band {
  readonly name: string;
  readonly colorIndex: number;
  readonly points: ReadonlyArray<readonly [xSeconds: number, low: number, high: number]>;
}

export interface Marker {
  readonly xSeconds: number;
  /** Short text drawn at the line. */
  readonly label: string;
  readonly type: string;
  /** The full event message, for the table under the charts. */
  readonly message: string;
}

export interface ChartData {
  readonly bucketMs: number;
  readonly durationSeconds: number;
  readonly requests: readonly Series[];
  readonly errors: readonly Series[];
  readonly latency: readonly Series[];
  /** Ready replicas per revision, stacked. */
  readonly replicaBands: readonly Band[];
  /** Active replicas (starting ones too) and the desired count. */
  readonly replicas: readonly Series[];
  readonly share: readonly Band[];
  /** Traffic weights the gateway set (blue-green and canary), drawn over the share bands. */
  readonly weights: readonly Series[];
  readonly markers: readonly Marker[];
  /** Revisions in order of first appearance, with the label the legends use. */
  readonly revisions: ReadonlyArray<{ readonly revision: string; readonly label: string; readonly colorIndex: number }>;
}

/** Event types drawn as markers: rollout progress and scaling, not every replica's health. */
const MARKED_TYPES = new Set([
  'rollout.started',
  'rollout.weights',
  'rollout.paused',
  'rollout.resumed',
  'rollout.promote',
  'rollout.resume',
  'rollout.abort',
  'rollout.succeeded',
  'rollout.aborted',
  'rollout.rolledback',
  'rollout.failed',
  'rollout.superseded',
  'autoscale.scaled',
  'autoscale.panic',
  'service.scaled',
]);

export function isMarked(type: string): boolean {
  return MARKED_TYPES.has(type) || type.startsWith('load.');
}

const SHORT_REVISION = 8;

function shortRevision(revision: string): string {
  return revision.slice(0, SHORT_REVISION);
}

/** A marker's short label: what happened, in a few words. */
export function markerLabel(event: TimelineRecord): string {
  const data = event.data ?? {};
  const text = (key: string): string => {
    const value = data[key];
    return typeof value === 'string' ? value : '';
  };
  switch (event.type) {
    case 'rollout.started':
      return `${text('rollout')} ${text('strategy')} start`.trim();
    case 'rollout.weights': {
      const weights = Array.isArray(data['weights']) ? (data['weights'] as Array<{ revision?: unknown; percent?: unknown }>) : [];
      return `weights ${weights.map((w) => `${shortRevision(String(w.revision)).slice(0, 4)} ${String(w.percent)}%`).join('/')}`;
    }
    case 'autoscale.scaled':
      return `scaled ${String(data['from'])}→${String(data['to'])}`;
    case 'autoscale.panic':
      return data['panicking'] === true ? 'panic on' : 'panic off';
    default: {
      if (event.type.startsWith('rollout.')) return `${text('rollout')} ${event.type.slice('rollout.'.length)}`.trim();
      // The runner's own events: the part before a colon ("autoscale added: {...}").
      const head = event.message.split(': ')[0] ?? event.message;
      return head.length > 40 ? `${head.slice(0, 39)}…` : head;
    }
  }
}

export interface ChartInput {
  readonly requests: readonly RequestRecord[];
  readonly services: readonly ServiceRecord[];
  readonly events: readonly TimelineRecord[];
  readonly startMs: number;
  readonly endMs: number;
  /** Default: chooseBucketMs of the duration. */
  readonly bucketMs?: number | undefined;
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** Revisions by first appearance in the answers, then in the polls. */
function revisionOrder(input: ChartInput): string[] {
  const seen = new Set<string>();
  const polled = input.services.flatMap((s) => [...s.replicas.map((r) => ({ atMs: s.atMs, revision: r.revision })), ...s.weights.map((w) => ({ atMs: s.atMs, revision: w.revision }))]);
  const answered = input.requests.flatMap((r) => (r.revision === undefined ? [] : [{ atMs: r.atMs, revision: r.revision }]));
  for (const { revision } of [...answered, ...polled].sort((a, b) => a.atMs - b.atMs)) seen.add(revision);
  return [...seen];
}

export function buildChartData(input: ChartInput): ChartData {
  const durationMs = Math.max(1, input.endMs - input.startMs);
  const bucketMs = input.bucketMs ?? chooseBucketMs(durationMs);
  // A last stretch shorter than half a bucket joins the bucket before it (its rate over a few
  // ms would be noise).
  const bucketCount = Math.max(1, Math.round(durationMs / bucketMs));
  const revisions = revisionOrder(input);
  const colorOf = new Map(revisions.map((revision, i) => [revision, i + 1]));
  const versionOf = new Map<string, string>();
  for (const r of input.requests) if (r.revision !== undefined && r.version !== undefined && !versionOf.has(r.revision)) versionOf.set(r.revision, r.version);
  const label = (revision: string): string => {
    const version = versionOf.get(revision);
    return version === undefined ? shortRevision(revision) : `${shortRevision(revision)} (version ${version})`;
  };

  const buckets = Array.from({ length: bucketCount }, () => ({ count: 0, failed: 0, latencies: [] as number[], byRevision: new Map<string, number>(), answered: 0 }));
  for (const r of input.requests) {
    const index = Math.floor((r.atMs - input.startMs) / bucketMs);
    const bucket = buckets[Math.min(bucketCount - 1, Math.max(0, index))];
    if (bucket === undefined) continue;
    bucket.count += 1;
    if (isFailed(r)) bucket.failed += 1;
    bucket.latencies.push(r.latencyMs);
    if (r.revision !== undefined) {
      bucket.answered += 1;
      bucket.byRevision.set(r.revision, (bucket.byRevision.get(r.revision) ?? 0) + 1);
    }
  }
  // The last bucket ends with the run (a little shorter or longer than the others); rates count
  // per second of each bucket's own length.
  const widthMs = (i: number): number => (i === bucketCount - 1 ? Math.max(1, durationMs - i * bucketMs) : bucketMs);
  const widthSeconds = (i: number): number => widthMs(i) / 1000;
  const middle = (i: number): number => seconds(i * bucketMs + widthMs(i) / 2);
  const edges = (i: number): [number, number] => [seconds(i * bucketMs), seconds(i * bucketMs + widthMs(i))];

  const requests: Series[] = [{ name: 'requests/s (sent on schedule)', colorIndex: 0, shape: 'line', points: buckets.map((b, i) => [middle(i), b.count / widthSeconds(i)]) }];
  const errors: Series[] = [{ name: 'failed requests/s', colorIndex: -1, shape: 'line', points: buckets.map((b, i) => [middle(i), b.failed / widthSeconds(i)]) }];
  const latency: Series[] = [
    {
      name: 'p95 latency (ms)',
      colorIndex: 0,
      shape: 'line',
      points: buckets.flatMap((b, i): Point[] => (b.latencies.length === 0 ? [] : [[middle(i), quantile(sortedCopy(b.latencies), 0.95)]])),
    },
  ];

  // Stacked in revision order: each band starts where the previous revision's share ends.
  const bandPoints = revisions.map((): Array<readonly [number, number, number]> => []);
  buckets.forEach((b, i) => {
    if (b.answered === 0) return;
    let low = 0;
    revisions.forEach((revision, k) => {
      const high = low + ((b.byRevision.get(revision) ?? 0) * 100) / b.answered;
      // Both edges of the bucket: the bands are flat over each bucket and fill the whole run.
      const [fromSeconds, toSeconds] = edges(i);
      bandPoints[k]?.push([fromSeconds, low, high], [toSeconds, low, high]);
      low = high;
    });
  });
  const share: Band[] = revisions.map((revision, k) => ({ name: label(revision), colorIndex: colorOf.get(revision) ?? 0, points: bandPoints[k] ?? [] }));

  const polls = [...input.services].sort((a, b) => a.atMs - b.atMs);
  const at = (s: ServiceRecord): number => seconds(Math.max(0, s.atMs - input.startMs));
  // Ready replicas stacked by revision, each poll's counts held until the next poll (the top
  // edge is all ready replicas); over them the active ones (starting too) and the desired count.
  const replicaBands: Band[] = revisions
    .map((revision, k): Band => ({
      name: `${label(revision)} ready`,
      colorIndex: colorOf.get(revision) ?? 0,
      points: polls.flatMap((s, i): Array<readonly [number, number, number]> => {
        const below = revisions.slice(0, k).reduce((sum, other) => sum + (s.replicas.find((r) => r.revision === other)?.ready ?? 0), 0);
        const high = below + (s.replicas.find((r) => r.revision === revision)?.ready ?? 0);
        const next = polls[i + 1];
        return [[at(s), below, high], [next === undefined ? at(s) : at(next), below, high]];
      }),
    }))
    .filter((band) => band.points.some(([, low, high]) => high > low));
  const replicas: Series[] = [];
  if (polls.length > 0) {
    replicas.push({ name: 'active (starting + ready)', colorIndex: 0, shape: 'step', points: polls.map((s): Point => [at(s), s.replicas.reduce((sum, r) => sum + r.active, 0)]) });
    if (polls.some((s) => s.desiredReplicas !== undefined)) {
      replicas.push({ name: 'desired', colorIndex: -2, shape: 'step', dashed: true, points: polls.flatMap((s): Point[] => (s.desiredReplicas === undefined ? [] : [[at(s), s.desiredReplicas]])) });
    }
  }

  const weights: Series[] = revisions
    .map((revision): Series => ({
      name: `${label(revision)} weight`,
      colorIndex: colorOf.get(revision) ?? 0,
      shape: 'step',
      dashed: true,
      points: polls.flatMap((s): Point[] => {
        if (s.weights.length === 0) return [];
        return [[at(s), s.weights.find((w) => w.revision === revision)?.percent ?? 0]];
      }),
    }))
    .filter((series) => series.points.some(([, y]) => y > 0));

  const markers: Marker[] = input.events
    .filter((e) => isMarked(e.type) && e.atMs >= input.startMs - 1_000 && e.atMs <= input.endMs + 1_000)
    .sort((a, b) => a.atMs - b.atMs)
    .map((e) => ({ xSeconds: seconds(Math.min(durationMs, Math.max(0, e.atMs - input.startMs))), label: markerLabel(e), type: e.type, message: e.message }));

  return {
    bucketMs,
    durationSeconds: seconds(durationMs),
    requests,
    errors,
    latency,
    replicaBands,
    replicas,
    share,
    weights,
    markers,
    revisions: revisions.map((revision) => ({ revision, label: label(revision), colorIndex: colorOf.get(revision) ?? 0 })),
  };
}
