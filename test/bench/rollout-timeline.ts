// Rollout bench timeline (pure): from the gateway's events (GET /v1/events) around one deploy,
// when the rollout started and succeeded, each new replica's start-to-healthy time, how long no
// new replica was coming up (time the rollout spent waiting on nothing), and when the old
// revision's last replica stopped; plus when each replica said it listens (the gateway's log).

/** The fields of a GET /v1/events entry the analysis reads. */
export interface TimelineEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export interface NewReplicaTimes {
  readonly id: string;
  /** When the controller asked the runtime to start it (GET /v1/services: replicas[].startedAtMs),
   * before the process was spawned; undefined when the replica was gone by the final GET. */
  readonly spawnAtMs: number | undefined;
  /** When the gateway logged the replica's own "listening" line (its stdout); undefined when
   * the log did not show it. */
  readonly listeningAtMs: number | undefined;
  /** `replica.started`: the runtime reported it listening on its port. */
  readonly startedAtMs: number;
  /** First `health.changed` to healthy after that; undefined if it never became healthy. */
  readonly healthyAtMs: number | undefined;
}

export interface RolloutTimeline {
  readonly rolloutId: string | undefined;
  readonly startedAtMs: number | undefined;
  /** The event that ended the rollout (rollout.succeeded, .rolledback, .failed, .aborted). */
  readonly endType: string | undefined;
  readonly endedAtMs: number | undefined;
  readonly replicas: readonly NewReplicaTimes[];
  /** Sum over new replicas of healthy - replica.started. */
  readonly startToHealthySumMs: number;
  /** Sum over new replicas of healthy - spawn (spawn unknown: replica.started instead). */
  readonly spawnToHealthySumMs: number;
  /** The same split at the replica's "listening" line: boot (spawn -> listening) and the
   * runtime's detection (listening -> replica.started); NaN when a time is missing. */
  readonly bootSumMs: number;
  readonly detectSumMs: number;
  /** Time between the PUT and the end during which no new replica was between its spawn and its
   * first healthy check: the rollout was waiting on something else (or on nothing). */
  readonly idleMs: number;
  /**
   * How long the controller took to act on new replicas turning healthy. Rolling: for the k-th
   * new replica to turn healthy, the time until the first `rollout.step` counting k or more
   * available (for the last one: until rollout.succeeded). Other strategies: rollout.succeeded
   * after the last new replica turned healthy. NaN without an end.
   */
  readonly reactionLagMs: number;
  /** The last `replica.stopped` of the old revision. */
  readonly oldGoneAtMs: number | undefined;
}

const END_TYPES = new Set(['rollout.succeeded', 'rollout.rolledback', 'rollout.failed', 'rollout.aborted']);

function text(data: TimelineEntry['data'], key: string): string | undefined {
  const value = data?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Length of the part of [fromMs, toMs] that no interval covers. */
export function uncoveredMs(fromMs: number, toMs: number, intervals: ReadonlyArray<readonly [number, number]>): number {
  const clipped = intervals
    .map(([a, b]): [number, number] => [Math.max(a, fromMs), Math.min(b, toMs)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let cursor = fromMs;
  for (const [a, b] of clipped) {
    const start = Math.max(a, cursor);
    if (b > start) {
      covered += b - start;
      cursor = b;
    }
  }
  return Math.max(0, toMs - fromMs - covered);
}

/**
 * The timeline of the rollout to `newRevision` from `oldRevision`, PUT at `putAtMs`. `events` are
 * the service's events since just before the PUT; `spawnAtMs` maps replica ids to the start time
 * GET /v1/services showed for them.
 *
 * Worked example (the tests reuse it): PUT at 1000; rollout.started at 1002; replica a spawned at
 * 1003, started at 1080, healthy at 1082; replica b spawned 1085, started 1160, healthy 1161;
 * rollout.succeeded at 1165 -> start-to-healthy sum 3 ms, spawn-to-healthy sum 155 ms, idle 10 ms
 * (1000-1003, 1082-1085, 1161-1165).
 */
export function analyzeRollout(input: {
  readonly events: readonly TimelineEntry[];
  readonly putAtMs: number;
  readonly oldRevision: string;
  readonly newRevision: string;
  readonly spawnAtMs: ReadonlyMap<string, number>;
  readonly listeningAtMs?: ReadonlyMap<string, number> | undefined;
}): RolloutTimeline {
  const { events, newRevision, oldRevision } = input;
  const started = events.find((e) => e.type === 'rollout.started' && text(e.data, 'to') === newRevision);
  const rolloutId = started === undefined ? undefined : text(started.data, 'rollout');
  const end = events.find((e) => END_TYPES.has(e.type) && rolloutId !== undefined && text(e.data, 'rollout') === rolloutId);

  const replicas: NewReplicaTimes[] = [];
  for (const e of events) {
    if (e.type !== 'replica.started' || text(e.data, 'revision') !== newRevision) continue;
    const id = text(e.data, 'replica') ?? '';
    const healthy = events.find((h) => h.type === 'health.changed' && h.seq > e.seq && text(h.data, 'replica') === id && h.data?.['healthy'] === true);
    replicas.push({ id, spawnAtMs: input.spawnAtMs.get(id), listeningAtMs: input.listeningAtMs?.get(id), startedAtMs: e.atMs, healthyAtMs: healthy?.atMs });
  }
  const healthyOnes = replicas.filter((r): r is NewReplicaTimes & { healthyAtMs: number } => r.healthyAtMs !== undefined);
  const startToHealthySumMs = healthyOnes.reduce((sum, r) => sum + (r.healthyAtMs - r.startedAtMs), 0);
  const spawnToHealthySumMs = healthyOnes.reduce((sum, r) => sum + (r.healthyAtMs - (r.spawnAtMs ?? r.startedAtMs)), 0);
  const bootSumMs = replicas.reduce((sum, r) => sum + ((r.listeningAtMs ?? Number.NaN) - (r.spawnAtMs ?? Number.NaN)), 0);
  const detectSumMs = replicas.reduce((sum, r) => sum + (r.startedAtMs - (r.listeningAtMs ?? Number.NaN)), 0);
  const endAtMs = end?.atMs;
  const idleMs = endAtMs === undefined
    ? Number.NaN
    : uncoveredMs(input.putAtMs, endAtMs, replicas.map((r) => [r.spawnAtMs ?? r.startedAtMs, r.healthyAtMs ?? endAtMs] as const));
  const healthyTimes = healthyOnes.map((r) => r.healthyAtMs).sort((a, b) => a - b);
  const steps = events.filter((e) => e.type === 'rollout.step' && typeof e.data?.['step'] === 'number' && text(e.data, 'rollout') === rolloutId);
  let reactionLagMs = Number.NaN;
  if (endAtMs !== undefined && healthyTimes.length > 0) {
    if (text(started?.data, 'strategy') === 'rolling') {
      reactionLagMs = healthyTimes.reduce((sum, healthyAtMs, i) => {
        const counted = i === healthyTimes.length - 1
          ? endAtMs
          : steps.find((e) => e.atMs >= healthyAtMs && (e.data?.['step'] as number) >= i + 1)?.atMs ?? endAtMs;
        return sum + Math.max(0, counted - healthyAtMs);
      }, 0);
    } else {
      reactionLagMs = Math.max(0, endAtMs - (healthyTimes[healthyTimes.length - 1] ?? endAtMs));
    }
  }
  const oldStops = events.filter((e) => e.type === 'replica.stopped' && text(e.data, 'revision') === oldRevision);
  return {
    rolloutId,
    startedAtMs: started?.atMs,
    endType: end?.type,
    endedAtMs: endAtMs,
    replicas,
    startToHealthySumMs,
    spawnToHealthySumMs,
    bootSumMs,
    detectSumMs,
    idleMs,
    reactionLagMs,
    oldGoneAtMs: oldStops.length === 0 ? undefined : Math.max(...oldStops.map((e) => e.atMs)),
  };
}

/** Replica id -> when the gateway logged its "listening" line, from the gateway's pino log (JSON
 * lines; a replica's output is logged with `replica` and `stream`). */
export function listeningTimes(log: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const line of log.split('\n')) {
    if (!line.includes('"stream":"stdout"') || !line.includes(' listening on ')) continue;
    try {
      const entry = JSON.parse(line) as { time?: unknown; replica?: unknown };
      if (typeof entry.replica === 'string' && typeof entry.time === 'number' && !times.has(entry.replica)) times.set(entry.replica, entry.time);
    } catch {
      // a line cut off at the end of the file
    }
  }
  return times;
}

/** The events as lines with times relative to the PUT, for a diagnosis, with a `(spawn)` line
 * where the controller asked for each new replica and a `(listening)` line where the gateway
 * logged the replica's own "listening" output (no event marks those moments). */
export function formatTimeline(
  events: readonly TimelineEntry[],
  putAtMs: number,
  spawnAtMs: ReadonlyMap<string, number> = new Map(),
  listeningAtMs: ReadonlyMap<string, number> = new Map(),
): string[] {
  const spawns = [...spawnAtMs].map(([id, atMs]) => ({ atMs, type: '(spawn)', message: `${id} (replicas[].startedAtMs)` }));
  const listening = [...listeningAtMs].filter(([id]) => spawnAtMs.has(id)).map(([id, atMs]) => ({ atMs, type: '(listening)', message: `${id} (its stdout, as the gateway logged it)` }));
  return [...events, ...spawns, ...listening]
    .sort((a, b) => a.atMs - b.atMs)
    .map((e) => `  +${String(Math.round(e.atMs - putAtMs)).padStart(5)} ms  ${e.type.padEnd(18)} ${e.message}`);
}
