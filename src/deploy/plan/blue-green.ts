// Blue-green step planning: brings up the full green set next to blue, switches the active
// revision in one change once green is fully ready, keeps blue warm for scaleDownDelayMs so abort
// is instant, then drains blue. Level-triggered, stores times instead of sleeping. Pure.

/** The controller's view of one replica during a blue-green rollout. */
export interface BlueGreenReplica {
  readonly replicaId: string;
  readonly revision: string;
  /** leaving: draining or stopping, already out of rotation; it counts toward nothing. */
  readonly phase: 'starting' | 'serving' | 'leaving';
  /** Passing its health checks now. */
  readonly ready: boolean;
  readonly startedAtMs: number;
}

export const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;
export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;

export type BlueGreenOutcome = 'running' | 'succeeded' | 'aborted' | 'failed';

/** What the shell persists between plans, plus the one-shot request stored by the admin API. */
export interface BlueGreenState {
  /** The revision serving when the rollout began. */
  readonly blueRevision: string;
  /** The revision being rolled out. */
  readonly greenRevision: string;
  readonly replicas: number;
  readonly autoPromote: boolean;
  /** With autoPromote: green must stay fully ready this long before the switch (default 0). */
  readonly autoPromoteDelayMs?: number | undefined;
  readonly scaleDownDelayMs: number;
  readonly progressDeadlineMs: number;
  /** A preview route (e.g. `x-dockmaster-preview: 1`) exists for this service. */
  readonly preview: boolean;
  /** The revision the router sends traffic to; changing it is the atomic switch. */
  readonly activeRevision: string;
  /** Start of green's current unbroken fully-ready stretch; the autoPromote delay counts from it. */
  readonly greenReadySinceMs: number | undefined;
  /** When traffic switched to green; blue stays warm until this + scaleDownDelayMs. */
  readonly switchedAtMs: number | undefined;
  readonly outcome: BlueGreenOutcome;
  /** Set with outcome `failed`: the green replica that missed its progress deadline. */
  readonly failure?: { readonly replicaId: string; readonly startedAtMs: number } | undefined;
  /** `promote` switches as soon as green is fully ready (waiting for it if needed, skipping any
   * autoPromote delay); `abort` (also `rollback` within the delay) sets the active revision back
   * to blue and drains green. Consumed when it takes effect. */
  readonly request?: 'promote' | 'abort' | undefined;
}

export interface BlueGreenView {
  readonly state: BlueGreenState;
  readonly replicaViews: readonly BlueGreenReplica[];
}

export type BlueGreenAction =
  | { readonly type: 'start'; readonly revision: string }
  | { readonly type: 'drain'; readonly replicaId: string; readonly reason: 'replaced' | 'scale-down' | 'aborted' };

export type BlueGreenStatus =
  | 'progressing' // green coming up
  | 'waiting-for-promote' // green fully ready, manual promote
  | 'promote-delay' // green fully ready, autoPromote delay running
  | 'scale-down-delay' // switched, blue kept warm
  | 'succeeded'
  | 'aborted'
  | 'failed';

export type BlueGreenCondition =
  | { readonly type: 'Progressing' }
  | { readonly type: 'Complete' }
  | { readonly type: 'Aborted' }
  | { readonly type: 'ProgressDeadlineExceeded'; readonly replicaId: string; readonly startedAtMs: number; readonly progressDeadlineMs: number };

export interface BlueGreenPlan {
  /** Persist this; planning again with it (same replicas, same nowMs) gives the same plan. */
  readonly state: BlueGreenState;
  readonly actions: readonly BlueGreenAction[];
  readonly status: BlueGreenStatus;
  readonly condition: BlueGreenCondition;
  /** Where the main route sends traffic (one value, so the swap is atomic). */
  readonly activeRevision: string;
  /** The preview route is open and reaches only green (only while green is fully ready). */
  readonly previewActive: boolean;
  /** Plan again then even if nothing is observed to change (delay ends, progress deadline). */
  readonly requeueAtMs?: number | undefined;
}

export interface BlueGreenOptions {
  readonly blueRevision: string;
  readonly greenRevision: string;
  readonly replicas: number;
  readonly autoPromote?: boolean | undefined;
  readonly autoPromoteDelayMs?: number | undefined;
  readonly scaleDownDelayMs?: number | undefined;
  readonly progressDeadlineMs?: number | undefined;
  readonly preview?: boolean | undefined;
}

/** Defaults: manual promote, scaleDownDelayMs 30000, progressDeadlineMs 600000, no preview. */
export function startBlueGreen(options: BlueGreenOptions): BlueGreenState {
  return {
    blueRevision: options.blueRevision,
    greenRevision: options.greenRevision,
    replicas: options.replicas,
    autoPromote: options.autoPromote ?? false,
    autoPromoteDelayMs: options.autoPromoteDelayMs,
    scaleDownDelayMs: options.scaleDownDelayMs ?? DEFAULT_SCALE_DOWN_DELAY_MS,
    progressDeadlineMs: options.progressDeadlineMs ?? DEFAULT_PROGRESS_DEADLINE_MS,
    preview: options.preview ?? false,
    activeRevision: options.blueRevision,
    greenReadySinceMs: undefined,
    switchedAtMs: undefined,
    outcome: 'running',
  };
}

/** Problems with the options, empty when valid. */
export function checkBlueGreenOptions(options: BlueGreenOptions): string[] {
  const problems: string[] = [];
  const nonNegative = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) problems.push(`${name} must be a non-negative number`);
  };
  if (!Number.isInteger(options.replicas) || options.replicas < 1) problems.push('replicas must be a positive integer');
  nonNegative('autoPromoteDelayMs', options.autoPromoteDelayMs);
  nonNegative('scaleDownDelayMs', options.scaleDownDelayMs);
  nonNegative('progressDeadlineMs', options.progressDeadlineMs);
  if (options.blueRevision === options.greenRevision) problems.push('greenRevision must differ from blueRevision');
  return problems;
}

/**
 * One step of a blue-green rollout, as Argo Rollouts' bluegreen reconcile: both sets at full size,
 * the active revision moves only onto a set with all `replicas` ready, and the old set is scaled
 * down only after scaleDownDelayMs. Terminal outcomes stay terminal (a promote after an abort
 * changes nothing); they keep draining the set that lost.
 *
 * Before the switch, a green replica not ready progressDeadlineMs after its start fails the
 * rollout: traffic never left blue, so green is drained and blue keeps serving (autoRollback).
 * Crashed replicas drop out of the view and are started again; the shell applies crash backoff.
 *
 * Worked examples (the tests reuse them), blue r1 -> green r2, 3 replicas:
 * - start, 3 blue ready: start 3 green; active r1, progressing; requeue at the progress deadline.
 * - 3 blue + 3 green ready, manual: waiting-for-promote, preview open, active r1.
 * - there, `promote` at t: active r2 at once, scale-down-delay, requeue at t + 30 000.
 * - `promote` while green is still starting: kept, switches on the first plan where green is ready.
 * - autoPromote with delay 10 000, green fully ready since t: promote-delay until t + 10 000,
 *   then active r2.
 * - switched at t, at t + 30 000: drain the 3 blue, succeeded.
 * - switched at t, `abort` at t + 5 000: active r1 at once, drain the 3 green, aborted.
 * - before the switch, `abort`: active stays r1, drain green, aborted.
 * - a green replica still not ready at its start + progressDeadlineMs: failed, drain green, active r1.
 */
export function planBlueGreenStep(view: BlueGreenView, nowMs: number): BlueGreenPlan {
  const state = view.state;
  const { blueRevision: blue, greenRevision: green, replicas: desired } = state;
  const active = view.replicaViews.filter((r) => r.phase !== 'leaving');
  const ofRevision = (revision: string): BlueGreenReplica[] => active.filter((r) => r.revision === revision);
  const fullyReady = (revision: string): boolean => ofRevision(revision).filter((r) => r.ready).length >= desired;
  const greenReady = fullyReady(green);

  if (state.outcome !== 'running') return settle({ ...state, request: undefined }, active);

  // Leftovers of any third revision (an earlier interrupted rollout) serve nobody here.
  const actions: BlueGreenAction[] = active
    .filter((r) => r.revision !== blue && r.revision !== green)
    .map((r) => ({ type: 'drain', replicaId: r.replicaId, reason: 'replaced' }));
  let s: BlueGreenState = state;

  if (s.switchedAtMs === undefined) {
    if (s.request === 'abort') return settle({ ...s, request: undefined, outcome: 'aborted' }, active, actions);
    const late = ofRevision(green)
      .filter((r) => !r.ready && nowMs - r.startedAtMs >= s.progressDeadlineMs)
      .sort((a, b) => a.startedAtMs - b.startedAtMs || (a.replicaId < b.replicaId ? -1 : 1))[0];
    if (late) {
      return settle({ ...s, request: undefined, outcome: 'failed', failure: { replicaId: late.replicaId, startedAtMs: late.startedAtMs } }, active, actions);
    }
    s = { ...s, greenReadySinceMs: greenReady ? (s.greenReadySinceMs ?? nowMs) : undefined };
    const promoteAtMs = s.autoPromote && s.greenReadySinceMs !== undefined ? s.greenReadySinceMs + (s.autoPromoteDelayMs ?? 0) : undefined;
    if (greenReady && (s.request === 'promote' || (promoteAtMs !== undefined && nowMs >= promoteAtMs))) {
      s = { ...s, request: undefined, activeRevision: green, switchedAtMs: nowMs };
    } else {
      actions.push(...keepFull(blue, desired, active), ...keepFull(green, desired, active));
      const deadlines = ofRevision(green).filter((r) => !r.ready).map((r) => r.startedAtMs + s.progressDeadlineMs);
      const requeueAtMs = min([...deadlines, ...(promoteAtMs === undefined ? [] : [promoteAtMs])]);
      const status: BlueGreenStatus = !greenReady ? 'progressing' : s.autoPromote ? 'promote-delay' : 'waiting-for-promote';
      return { state: s, actions, status, condition: { type: 'Progressing' }, activeRevision: s.activeRevision, previewActive: s.preview && greenReady, requeueAtMs };
    }
  }

  // Switched: blue stays warm (kept at full size) until the delay ends.
  const switchedAtMs = s.switchedAtMs ?? nowMs; // always set here; the fallback only narrows the type
  const scaleDownAtMs = switchedAtMs + s.scaleDownDelayMs;
  if (s.request === 'promote') s = { ...s, request: undefined }; // already promoted
  if (s.request === 'abort') {
    // Instant when blue is warm; if a blue replica died meanwhile, the abort waits for its replacement.
    if (fullyReady(blue)) return settle({ ...s, request: undefined, activeRevision: blue, outcome: 'aborted' }, active, actions);
  } else if (nowMs >= scaleDownAtMs) {
    return settle({ ...s, outcome: 'succeeded' }, active, actions);
  }
  actions.push(...keepFull(blue, desired, active), ...keepFull(green, desired, active));
  const requeueAtMs = s.request === 'abort' ? undefined : scaleDownAtMs;
  return { state: s, actions, status: 'scale-down-delay', condition: { type: 'Progressing' }, activeRevision: s.activeRevision, previewActive: false, requeueAtMs };
}

/** A terminal outcome: traffic on the winner, the loser drained (level-triggered, every plan). */
function settle(state: BlueGreenState, active: readonly BlueGreenReplica[], leftovers: readonly BlueGreenAction[] = []): BlueGreenPlan {
  const succeeded = state.outcome === 'succeeded';
  const activeRevision = succeeded ? state.greenRevision : state.blueRevision;
  const loser = succeeded ? state.blueRevision : state.greenRevision;
  const reason = succeeded ? 'replaced' : 'aborted';
  const drains = active.filter((r) => r.revision === loser).map((r): BlueGreenAction => ({ type: 'drain', replicaId: r.replicaId, reason }));
  const s: BlueGreenState = { ...state, activeRevision };
  const base = { state: s, actions: [...leftovers, ...drains], activeRevision, previewActive: false };
  if (succeeded) return { ...base, status: 'succeeded', condition: { type: 'Complete' } };
  if (state.outcome === 'failed' && state.failure) {
    return { ...base, status: 'failed', condition: { type: 'ProgressDeadlineExceeded', ...state.failure, progressDeadlineMs: state.progressDeadlineMs } };
  }
  return { ...base, status: 'aborted', condition: { type: 'Aborted' } };
}

/** Starts the missing replicas of one set, or drains its surplus (not ready first, then newest). */
function keepFull(revision: string, desired: number, active: readonly BlueGreenReplica[]): BlueGreenAction[] {
  const set = active.filter((r) => r.revision === revision);
  if (set.length < desired) return Array.from({ length: desired - set.length }, () => ({ type: 'start', revision }));
  return [...set]
    .sort((a, b) => Number(a.ready) - Number(b.ready) || b.startedAtMs - a.startedAtMs || (a.replicaId < b.replicaId ? -1 : 1))
    .slice(0, set.length - desired)
    .map((r) => ({ type: 'drain', replicaId: r.replicaId, reason: 'scale-down' }));
}

function min(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : Math.min(...values);
}
