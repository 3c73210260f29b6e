// Decisions on a service's persisted deployment state: which revision serves, when a spec change
// starts (or supersedes) a rollout, how a rollout's end moves the stable revision, the revision
// history kept for rollback, and the admin commands (pause, resume, promote, abort, rollback).
// Pure: state in, new state (or a refusal) out; the controller persists and applies.
import type { DeployPolicy } from '../model/deploy.js';
import { isRunning, type RevisionRecord, type Rollout, type ServiceDeployState } from '../model/rollout.js';
import { finish, newRollout } from './plan/plan-rollout.js';

export function emptyDeployState<T>(service: string): ServiceDeployState<T> {
  return { format: 1, service, stableRevision: undefined, revisions: [], nextRolloutNumber: 1 };
}

/** The revision replicas should run when no rollout is running. */
export function servingRevision<T>(state: ServiceDeployState<T>, specRevision: string): string {
  return state.stableRevision ?? specRevision;
}

/** Adds (or refreshes) a revision at the front of the history and keeps at most `limit`, never
 * dropping the stable, held-back or rolling revisions. */
export function recordRevision<T>(state: ServiceDeployState<T>, revision: string, template: T, nowMs: number, limit: number): ServiceDeployState<T> {
  const existing = state.revisions.find((r) => r.revision === revision);
  const revisions = existing === undefined ? [{ revision, template, createdAtMs: nowMs }, ...state.revisions] : state.revisions.map((r) => (r.revision === revision ? { ...r, template } : r));
  return pruneRevisions({ ...state, revisions }, limit);
}

export function pruneRevisions<T>(state: ServiceDeployState<T>, limit: number): ServiceDeployState<T> {
  if (state.revisions.length <= limit) return state;
  const pinned = new Set([state.stableRevision, state.heldBackRevision, state.rollout?.fromRevision, state.rollout?.toRevision].filter((r): r is string => r !== undefined));
  const kept: RevisionRecord<T>[] = [];
  let room = limit - state.revisions.filter((r) => pinned.has(r.revision)).length;
  for (const r of state.revisions) {
    if (pinned.has(r.revision)) kept.push(r);
    else if (room > 0) {
      kept.push(r);
      room--;
    }
  }
  return { ...state, revisions: kept };
}

function markServed<T>(state: ServiceDeployState<T>, revision: string, nowMs: number): ServiceDeployState<T> {
  return { ...state, stableRevision: revision, revisions: state.revisions.map((r) => (r.revision === revision ? { ...r, servedAtMs: nowMs } : r)) };
}

export interface SpecInput {
  readonly specRevision: string;
  readonly desiredReplicas: number;
  readonly policy: DeployPolicy;
  /** Active replicas per revision now (for the rolling progress baseline). */
  readonly activeByRevision: ReadonlyMap<string, number>;
  readonly nowMs: number;
}

export interface SpecDecision<T> {
  readonly state: ServiceDeployState<T>;
  /** A rollout this decision ended (superseded by the new spec, or a Failed one the spec
   * reverted), for the shell to count and record. */
  readonly ended?: Rollout | undefined;
  /** What happened, for the event log; undefined when nothing changed. */
  readonly event?: { readonly type: 'service.revision' | `rollout.${string}`; readonly message: string } | undefined;
}

/**
 * A rollback goes back to a revision that already served, so it is fast-tracked (as Argo Rollouts
 * does): a canary skips its steps and analysis (the old revision grows to full size, then takes
 * all traffic at once), a blue-green switches as soon as the set is ready. Rolling keeps its
 * surge and unavailable limits.
 */
export function rollbackPolicy(policy: DeployPolicy): DeployPolicy {
  return {
    ...policy,
    canary: { ...policy.canary, steps: [], analysis: undefined },
    blueGreen: { ...policy.blueGreen, autoPromote: true, autoPromoteDelayMs: 0 },
  };
}

function startRollout<T>(state: ServiceDeployState<T>, kind: Rollout['kind'], from: string, to: string, input: Omit<SpecInput, 'specRevision'>): ServiceDeployState<T> {
  const rollout = newRollout({
    service: state.service,
    number: state.nextRolloutNumber,
    kind,
    policy: kind === 'rollback' ? rollbackPolicy(input.policy) : input.policy,
    fromRevision: from,
    toRevision: to,
    desiredReplicas: input.desiredReplicas,
    oldActive: [...input.activeByRevision].filter(([revision]) => revision !== to).reduce((n, [, count]) => n + count, 0),
    nowMs: input.nowMs,
  });
  return { ...state, rollout, nextRolloutNumber: state.nextRolloutNumber + 1 };
}

/** Ends a rollout Aborted from outside the planner (a new spec, an abort after a failure). */
function ended(rollout: Rollout, message: string, nowMs: number): Rollout {
  return finish(rollout, 'Aborted', 'Aborted', message, nowMs);
}

/**
 * Reacts to the spec's revision. Worked examples (the tests reuse them), stable A:
 * - no stable revision yet (a new service): B becomes stable at once; the first start is no rollout.
 * - spec B, nothing running: a rollout A -> B starts.
 * - spec B while A -> B runs: nothing. Spec C while A -> B runs: A -> B is Aborted ("superseded")
 *   and A -> C starts. Spec A while A -> B runs: the rollout is asked to abort (spec reverted).
 * - spec B after A -> B was aborted or rolled back (B held back): nothing until the spec changes.
 * - desired replicas 0: the new revision becomes stable at once (nothing to roll).
 */
export function onSpec<T>(state: ServiceDeployState<T>, input: SpecInput): SpecDecision<T> {
  const S = input.specRevision;
  const r = state.rollout;
  const stable = state.stableRevision;
  if (stable === undefined || (input.desiredReplicas === 0 && (r === undefined || !isRunning(r.phase)) && S !== stable)) {
    if (stable === S) return { state };
    return { state: { ...markServed(state, S, input.nowMs), heldBackRevision: undefined }, event: { type: 'service.revision', message: stable === undefined ? `${S} serves (first revision)` : `${S} serves (no replicas to roll)` } };
  }
  if (r !== undefined && isRunning(r.phase)) {
    if (S === r.toRevision) return { state };
    // A rollback runs while the spec still names the revision it left.
    if (r.kind === 'rollback' && S === state.heldBackRevision) return { state };
    if (S === r.fromRevision) {
      if (r.request === 'abort') return { state };
      return { state: { ...state, rollout: { ...r, request: 'abort' } }, event: { type: 'rollout.abort-requested', message: `${r.id}: spec reverted to ${S}` } };
    }
    const superseded = ended(r, `superseded by ${S}`, input.nowMs);
    const next = startRollout({ ...state, rollout: superseded, heldBackRevision: undefined }, 'deploy', r.fromRevision, S, input);
    return { state: next, ended: superseded, event: { type: 'rollout.superseded', message: `${r.id} superseded: rollout ${r.fromRevision} -> ${S}` } };
  }
  if (r !== undefined && r.phase === 'Failed' && S === r.toRevision) return { state };
  if (r !== undefined && r.phase === 'Failed' && S === stable) {
    const aborted = ended(r, `spec reverted to ${S}`, input.nowMs);
    return { state: { ...state, rollout: aborted, heldBackRevision: undefined }, ended: aborted };
  }
  if (S === stable) return state.heldBackRevision === undefined ? { state } : { state: { ...state, heldBackRevision: undefined } };
  if (S === state.heldBackRevision) return { state };
  const next = startRollout({ ...state, heldBackRevision: undefined }, 'deploy', stable, S, input);
  return { state: next, event: { type: 'rollout.created', message: `rollout ${stable} -> ${S} (${input.policy.strategy})` } };
}

/** A rollout's new state from the planner: when it just ended, the stable and held-back
 * revisions follow (Succeeded: the new revision serves; Aborted or RolledBack: it is held back). */
export function onRolloutPlanned<T>(state: ServiceDeployState<T>, rollout: Rollout, nowMs: number): ServiceDeployState<T> {
  const before = state.rollout;
  const justEnded = before !== undefined && isRunning(before.phase) && !isRunning(rollout.phase);
  let next: ServiceDeployState<T> = { ...state, rollout };
  if (!justEnded) return next;
  if (rollout.phase === 'Succeeded') {
    next = markServed(next, rollout.toRevision, nowMs);
    // A rollback leaves the spec's own revision held back; a deploy clears it.
    if (rollout.kind === 'deploy') next = { ...next, heldBackRevision: undefined };
  } else if ((rollout.phase === 'Aborted' || rollout.phase === 'RolledBack') && rollout.kind === 'deploy') {
    next = { ...next, heldBackRevision: rollout.toRevision };
  }
  return next;
}

export type CommandName = 'pause' | 'resume' | 'promote' | 'abort';

export type CommandResult<T> =
  | { readonly ok: true; readonly state: ServiceDeployState<T>; readonly message: string }
  | { readonly ok: false; readonly code: 'DM_ERR_DEPLOY_NO_ROLLOUT' | 'DM_ERR_DEPLOY_NOT_ALLOWED'; readonly message: string };

/**
 * An admin command on the running rollout. pause holds every step; resume lifts a pause (or ends
 * a canary's pause step without duration, or promotes a blue-green waiting for promote);
 * promote skips every remaining step; abort restores the previous revision. A Failed rollout
 * (autoRollback off) accepts abort only. Refusals say why.
 */
export function applyCommand<T>(state: ServiceDeployState<T>, command: CommandName, nowMs: number): CommandResult<T> {
  const r = state.rollout;
  if (r === undefined) return { ok: false, code: 'DM_ERR_DEPLOY_NO_ROLLOUT', message: `service ${state.service} has no rollout` };
  if (r.phase === 'Failed' && command === 'abort') {
    const aborted = ended(r, `aborted after failure; traffic back on ${r.fromRevision}`, nowMs);
    return { ok: true, state: { ...state, rollout: aborted, heldBackRevision: r.kind === 'deploy' ? r.toRevision : state.heldBackRevision }, message: 'aborted' };
  }
  if (!isRunning(r.phase)) return { ok: false, code: 'DM_ERR_DEPLOY_NO_ROLLOUT', message: `rollout ${r.id} is ${r.phase}, not running` };
  const set = (rollout: Rollout, message: string): CommandResult<T> => ({ ok: true, state: { ...state, rollout: { ...rollout, updatedAtMs: nowMs } }, message });
  switch (command) {
    case 'pause':
      if (r.paused) return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: `rollout ${r.id} is already paused` };
      return set({ ...r, paused: true }, 'paused');
    case 'resume':
      if (r.paused) return set({ ...r, paused: false }, 'resumed');
      if (r.phase === 'Paused' && r.strategy === 'canary') return set({ ...r, request: 'resume' }, 'resumed');
      if (r.phase === 'Paused' && r.strategy === 'blue-green') return set({ ...r, request: 'promote' }, 'promoted');
      return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: `rollout ${r.id} is not paused` };
    case 'promote':
      if (r.strategy === 'rolling') return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: `rollout ${r.id} is rolling: it has no steps to promote (use resume if paused)` };
      return set({ ...r, request: 'promote', paused: false }, 'promoted');
    case 'abort':
      return set({ ...r, request: 'abort' }, 'aborting');
  }
}

export type RollbackResult<T> =
  | { readonly ok: true; readonly state: ServiceDeployState<T>; readonly message: string; readonly toRevision: string }
  | { readonly ok: false; readonly code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION' | 'DM_ERR_DEPLOY_NOT_ALLOWED' | 'DM_ERR_DEPLOY_IN_PROGRESS'; readonly message: string };

/** Finds a revision of the history by its full id or a unique prefix. */
export function findRevision<T>(state: ServiceDeployState<T>, idOrPrefix: string): RevisionRecord<T> | undefined | 'ambiguous' {
  const exact = state.revisions.find((r) => r.revision === idOrPrefix);
  if (exact !== undefined) return exact;
  const matches = state.revisions.filter((r) => r.revision.startsWith(idOrPrefix));
  if (matches.length > 1) return 'ambiguous';
  return matches[0];
}

/**
 * `rollback [--to REVISION]`. While a rollout runs (or sits Failed), rollback is its abort: the
 * previous revision comes back at once where it is still warm (blue-green within
 * scaleDownDelayMs, a canary's stable set). Otherwise a rollout (kind rollback, the service's
 * deploy policy) goes from the stable revision to REVISION, by default the newest earlier one in
 * the history; the spec's own revision is then held back until the spec changes.
 */
export function applyRollback<T>(state: ServiceDeployState<T>, to: string | undefined, input: Omit<SpecInput, 'specRevision'> & { readonly specRevision: string }): RollbackResult<T> {
  const r = state.rollout;
  if (r !== undefined && (isRunning(r.phase) || r.phase === 'Failed')) {
    const target = to === undefined ? undefined : findRevision(state, to);
    if (target === 'ambiguous') return { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION', message: `revision prefix '${to}' matches more than one revision` };
    if (to !== undefined && target?.revision !== r.fromRevision) {
      return { ok: false, code: 'DM_ERR_DEPLOY_IN_PROGRESS', message: `rollout ${r.id} is ${r.phase}: rollback now returns to ${r.fromRevision} only (abort it first to go elsewhere)` };
    }
    const result = applyCommand(state, 'abort', input.nowMs);
    if (!result.ok) return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: result.message };
    return { ok: true, state: result.state, message: `rolling back to ${r.fromRevision}`, toRevision: r.fromRevision };
  }
  const stable = state.stableRevision;
  if (stable === undefined) return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: `service ${state.service} has no revision yet` };
  let target: RevisionRecord<T> | undefined;
  if (to === undefined) {
    target = state.revisions.find((rev) => rev.revision !== stable && rev.servedAtMs !== undefined) ?? state.revisions.find((rev) => rev.revision !== stable);
    if (target === undefined) return { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION', message: `service ${state.service} has no earlier revision to roll back to` };
  } else {
    const found = findRevision(state, to);
    if (found === 'ambiguous') return { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION', message: `revision prefix '${to}' matches more than one revision` };
    if (found === undefined) return { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION', message: `revision '${to}' is not in the history of ${state.service} (see GET /v1/services/${state.service}/revisions)` };
    target = found;
  }
  if (target.revision === stable) return { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: `revision ${stable} already serves` };
  const started = startRollout(state, 'rollback', stable, target.revision, input);
  const heldBackRevision = input.specRevision === target.revision ? undefined : input.specRevision;
  return { ok: true, state: { ...started, heldBackRevision }, message: `rollback ${stable} -> ${target.revision}`, toRevision: target.revision };
}
