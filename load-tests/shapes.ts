// The shapes of the load scenarios, shared by the k6 scripts and the Node runner (test/load) so
// both run the same thing: request-rate stages, the spike's autoscale section, the deploy
// sections and versions the rollout and canary scenarios apply, their timings. Pure: no imports.

/** The request rate ramps linearly from the previous stage's target (or `startRate`) to
 * `targetRate` over `durationMs`, as in k6's ramping-arrival-rate executor. */
export interface RateStage {
  readonly durationMs: number;
  readonly targetRate: number;
}

export interface RateShape {
  readonly startRate: number;
  readonly stages: readonly RateStage[];
}

/** A constant rate for `durationMs`. */
export function constantShape(ratePerSecond: number, durationMs: number): RateShape {
  return { startRate: ratePerSecond, stages: [{ durationMs, targetRate: ratePerSecond }] };
}

/** Total length of a shape, in ms. */
export function shapeDurationMs(shape: RateShape): number {
  return shape.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
}

/** Shares of the spike's total duration: the base rate, a fast climb, the spike, a fast descent,
 * and the recovery at the base rate (the "after the spike" latency is measured there). */
export const SPIKE_PHASES = { before: 0.25, rampUp: 0.05, hold: 0.35, rampDown: 0.05, after: 0.3 } as const;

/** The default spike height: this many times the base rate. */
export const DEFAULT_SPIKE_FACTOR = 4;

export interface SpikeShape extends RateShape {
  /** Requests sent from this offset on (ms from the start) belong to the recovery stage. */
  readonly afterFromMs: number;
}

/**
 * The spike over `totalMs`: `baseRate`, up to `spikeRate`, back to `baseRate`.
 * Example: base 50, spike 200, 20 s -> 5 s at 50, 1 s ramp to 200, 7 s at 200, 1 s ramp to 50,
 * 6 s at 50; the recovery stage starts at 14 s.
 */
export function spikeShape(baseRate: number, spikeRate: number, totalMs: number): SpikeShape {
  const ms = (share: number): number => Math.round(totalMs * share);
  const stages: RateStage[] = [
    { durationMs: ms(SPIKE_PHASES.before), targetRate: baseRate },
    { durationMs: ms(SPIKE_PHASES.rampUp), targetRate: spikeRate },
    { durationMs: ms(SPIKE_PHASES.hold), targetRate: spikeRate },
    { durationMs: ms(SPIKE_PHASES.rampDown), targetRate: baseRate },
  ];
  const afterFromMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  stages.push({ durationMs: Math.max(0, totalMs - afterFromMs), targetRate: baseRate });
  return { startRate: baseRate, stages, afterFromMs };
}

/**
 * The `autoscale:` section the spike gives a service that has none: the replicas it has stay the
 * minimum, the base rate needs 80% of them (targetRps = 1.25 x base / replicas), so a spike of
 * 2.5 x base or more is "panic" demand (twice the capacity) and scales up at once, to at most
 * twice the replicas (at least 2 more). Short windows so that a spike of a minute is seen whole.
 * Example: 3 replicas, base 60 req/s -> minReplicas 3, maxReplicas 6, targetRps 25.
 */
export function spikeAutoscale(readyReplicas: number, baseRate: number): Record<string, unknown> {
  const minReplicas = Math.max(1, Math.floor(readyReplicas));
  return {
    minReplicas,
    maxReplicas: Math.max(minReplicas + 2, minReplicas * 2),
    targetRps: Math.ceil(((baseRate * 1.25) / minReplicas) * 100) / 100,
    syncIntervalMs: 500,
    stableWindowMs: 10_000,
    panic: { windowMs: 2_000, threshold: 2 },
    scaleUp: { stabilizationWindowMs: 0 },
    scaleDown: { stabilizationWindowMs: 10_000 },
  };
}

/** Rolling update of the rollout scenario: one extra replica at a time, none missing. */
export const ROLLING_DEPLOY = { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } } as const;

/** Blue-green update of the rollout scenario: switch once the new set is ready, then drain the
 * old set at once (so Succeeded is the switch and the old set leaves within the run). */
export const BLUE_GREEN_DEPLOY = { strategy: 'blue-green', blueGreen: { autoPromote: true, scaleDownDelayMs: 0 } } as const;

/** The canary scenario's deploy section: `weightPercent` of the requests, then a pause until
 * promote (the script measures the split during the pause, then promotes). */
export function canaryDeploy(weightPercent: number): Record<string, unknown> {
  return { strategy: 'canary', canary: { steps: [{ setWeight: weightPercent }, { pause: {} }] } };
}

export const DEFAULT_CANARY_WEIGHT_PERCENT = 20;

/** The `version` label of the n-th update a run makes: unique per run, so every PUT is a new
 * revision. `runId` is anything short and unique, e.g. the start time in base 36. */
export function loadVersion(runId: string, n: number): string {
  return `load-${runId}-${n}`;
}

/** `document` with another `version` and `deploy` section (a copy; the input is untouched). */
export function withVersionAndDeploy(document: Readonly<Record<string, unknown>>, version: string, deploy: unknown): Record<string, unknown> {
  return { ...structuredCopy(document), version, deploy: structuredCopy(deploy) };
}

/**
 * The document to PUT back when a run ends: the one the run found, but with the `version` the
 * service runs now, so restoring the deploy policy (or removing an added autoscale section) does
 * not start another rollout. `currentVersion` undefined: the version was never changed.
 */
export function restoredDocument(original: Readonly<Record<string, unknown>>, currentVersion: string | undefined): Record<string, unknown> {
  const copy = structuredCopy(original);
  return currentVersion === undefined ? copy : { ...copy, version: currentVersion };
}

/** When the rollout scenario acts within a load of `durationMs`: the first update after
 * `leadMs` of load, the second `gapMs` after the first succeeded (10% each, 0.5 to 10 s). */
export function rolloutTimings(durationMs: number): { readonly leadMs: number; readonly gapMs: number } {
  const tenth = Math.min(10_000, Math.max(500, Math.round(durationMs / 10)));
  return { leadMs: tenth, gapMs: tenth };
}

/** A string field of a demo app answer (`{"service","revision","replica","port","version"}`; the
 * app echoes DOCKMASTER_REVISION as `revision`), or undefined when the body is not such an
 * answer or the field is empty. */
export function answerField(body: string, field: 'revision' | 'replica' | 'version'): string | undefined {
  if (body === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const value = (parsed as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A duration as k6 writes them ("500ms", "30s", "2m", "1m30s", "1.5s") in ms; undefined when the
 * text is not one (empty, a bare number, an unknown unit).
 */
export function parseDurationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let totalMs = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) totalMs += Number(part[1]) * (unitMs[part[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(totalMs) ? Math.round(totalMs) : undefined;
}

/** ms as a k6 duration string. */
export function k6Duration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

/** A deep copy of JSON data (k6 has no structuredClone). */
function structuredCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
