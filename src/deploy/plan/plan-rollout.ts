// One step of a running rollout, whatever its strategy: applies the stored request, checks the
// failure rules shared by all strategies, runs the strategy's planner (rolling.ts, blue-green.ts,
// canary.ts with analysis.ts), and says which replicas to start or drain, how to split the
// traffic, what to persist and which events to record. Level-triggered and pure: the shell
// observes, calls this, applies, and plans again when something changes or at requeueAtMs.
import type { Rollout, RolloutCondition, RolloutPhase } from '../../model/rollout.js';
import type { TrafficSplit, RevisionWeight } from '../../model/traffic.js';
import { stickyCookieName } from '../../model/traffic.js';
import { planRollingStep, resolveSurgeAndUnavailable, type RollingReplica } from './rolling.js';
import { planBlueGreenStep, startBlueGreen, type BlueGreenReplica } from './blue-green.js';
import { nextCanaryStep, startCanary, type CanaryStep } from './canary.js';
import { analyzeInterval, NO_ANALYSIS, type AnalysisSpec, type RevisionMeasurement } from './analysis.js';
import type { DeployPolicy } from '../../model/deploy.js';

/** The controller's view of one replica. */
export interface RolloutReplica {
  readonly replicaId: string;
  readonly revision: string;
  /** leaving: draining or stopping, out of rotation; it counts toward nothing. */
  readonly phase: 'starting' | 'serving' | 'leaving';
  readonly healthy: boolean;
  /** Start of its current unbroken healthy stretch; undefined while not healthy. */
  readonly healthySinceMs: number | undefined;
  readonly startedAtMs: number;
}

export type RolloutAction =
  | { readonly type: 'start'; readonly revision: string }
  | { readonly type: 'drain'; readonly replicaId: string; readonly reason: string };

export interface RolloutEvent {
  readonly type: `rollout.${string}`;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export interface RolloutInput {
  readonly rollout: Rollout;
  /** Replicas the service should have (the spec, later the autoscaler). */
  readonly desiredReplicas: number;
  readonly replicas: readonly RolloutReplica[];
  readonly nowMs: number;
  /** The canary's measurement since the analysis interval began, when that interval is due
   * (`analysisDueAtMs` of the previous plan) and the shell has a baseline for it. */
  readonly analysisSample?: RevisionMeasurement | undefined;
}

export interface RolloutPlan {
  /** Persist this. */
  readonly rollout: Rollout;
  readonly actions: readonly RolloutAction[];
  /** undefined: the service's traffic follows its replicas (rolling). */
  readonly traffic: TrafficSplit | undefined;
  readonly requeueAtMs?: number | undefined;
  readonly events: readonly RolloutEvent[];
  /** The shell takes a new measurement baseline of the canary revision now. */
  readonly analysisBaseline: boolean;
}

const MAX_CONDITIONS = 20;

export interface NewRolloutOptions {
  readonly service: string;
  readonly number: number;
  readonly kind: Rollout['kind'];
  readonly policy: DeployPolicy;
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly desiredReplicas: number;
  /** How many replicas of fromRevision are active now (the rolling progress baseline). */
  readonly oldActive: number;
  readonly nowMs: number;
}

/** A rollout at its first step; the next plan starts moving it. */
export function newRollout(options: NewRolloutOptions): Rollout {
  const { policy, nowMs } = options;
  const base = {
    id: `${options.service}#${options.number}`,
    number: options.number,
    service: options.service,
    kind: options.kind,
    strategy: policy.strategy,
    policy,
    fromRevision: options.fromRevision,
    toRevision: options.toRevision,
    phase: 'Progressing' as const,
    paused: false,
    weights: [] as RevisionWeight[],
    conditions: [{ type: 'Progressing', message: `${options.kind === 'rollback' ? 'rollback' : 'rollout'} ${options.fromRevision} -> ${options.toRevision} (${policy.strategy})`, atMs: nowMs }],
    startedAtMs: nowMs,
    updatedAtMs: nowMs,
    message: 'started',
    newReplicaCrashes: 0,
  };
  if (policy.strategy === 'rolling') {
    return { ...base, step: { index: 0, total: options.desiredReplicas, description: 'starting new replicas' }, rolling: { progress: { atMs: nowMs, newAvailable: 0, oldActive: options.oldActive } } };
  }
  if (policy.strategy === 'blue-green') {
    const bg = policy.blueGreen;
    const state = startBlueGreen({
      blueRevision: options.fromRevision,
      greenRevision: options.toRevision,
      replicas: Math.max(1, options.desiredReplicas),
      autoPromote: bg.autoPromote,
      autoPromoteDelayMs: bg.autoPromoteDelayMs,
      scaleDownDelayMs: bg.scaleDownDelayMs,
      progressDeadlineMs: policy.progressDeadlineMs,
      preview: bg.preview !== undefined,
    });
    return { ...base, step: { index: 0, total: 3, description: 'starting the new set' }, weights: [{ revision: options.fromRevision, percent: 100 }, { revision: options.toRevision, percent: 0 }], blueGreen: state };
  }
  const analysis = policy.canary.analysis;
  return {
    ...base,
    step: { index: 0, total: policy.canary.steps.length, description: describeCanaryStep(policy.canary.steps, 0) },
    weights: [{ revision: options.fromRevision, percent: 100 }, { revision: options.toRevision, percent: 0 }],
    canary: {
      state: startCanary(policy.canary.steps),
      ...(analysis === undefined ? {} : { analysis: { state: NO_ANALYSIS, intervalStartedAtMs: undefined, lastPassAtMs: undefined } }),
    },
  };
}

function describeCanaryStep(steps: readonly CanaryStep[], index: number): string {
  const step = steps[index];
  if (step === undefined) return 'promoting: canary to full size';
  if ('setWeight' in step) return `setWeight ${step.setWeight}`;
  return step.pause.durationMs === undefined ? 'pause until promote' : `pause ${step.pause.durationMs} ms`;
}

function analysisSpec(policy: DeployPolicy): AnalysisSpec | undefined {
  const a = policy.canary.analysis;
  if (a === undefined) return undefined;
  return {
    minSuccessRate: a.minSuccessRate,
    maxLatencyMs: a.latency?.maxMs,
    latencyPercentile: a.latency?.percentile ?? 'p99',
    minRequests: a.minRequests,
    failureLimit: a.failureLimit,
  };
}

/** Replicas a canary at `percent` needs: a share of the desired count, at least 1 when above 0. */
export function canaryReplicasFor(percent: number, desired: number): number {
  if (percent <= 0 || desired <= 0) return 0;
  return Math.min(desired, Math.max(1, Math.ceil((desired * percent) / 100)));
}

/** The highest weight `ready` canary replicas can take out of `desired` (inverse of the above). */
export function canaryReadyPercent(ready: number, desired: number): number {
  if (desired <= 0 || ready >= desired) return 100;
  return Math.floor((ready * 100) / desired);
}

function isReady(r: RolloutReplica): boolean {
  return r.phase === 'serving' && r.healthy;
}

/** Starts or drains replicas of one revision until it has `wanted` active ones (not ready and
 * newest drained first). */
function keepCount(revision: string, wanted: number, active: readonly RolloutReplica[], reason: string): RolloutAction[] {
  const set = active.filter((r) => r.revision === revision);
  if (set.length < wanted) return Array.from({ length: wanted - set.length }, () => ({ type: 'start' as const, revision }));
  return [...set]
    .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || b.startedAtMs - a.startedAtMs || (a.replicaId < b.replicaId ? -1 : 1))
    .slice(0, set.length - wanted)
    .map((r) => ({ type: 'drain' as const, replicaId: r.replicaId, reason }));
}

function withCondition(rollout: Rollout, condition: RolloutCondition): readonly RolloutCondition[] {
  const last = rollout.conditions[rollout.conditions.length - 1];
  if (last !== undefined && last.type === condition.type && last.message === condition.message) return rollout.conditions;
  return [...rollout.conditions, condition].slice(-MAX_CONDITIONS);
}

/** The weights an ended rollout leaves: all traffic back on the old revision (a split rollout). */
export function restoredWeights(rollout: Rollout): readonly RevisionWeight[] {
  if (rollout.weights.length === 0) return rollout.weights;
  return [
    { revision: rollout.fromRevision, percent: 100 },
    { revision: rollout.toRevision, percent: 0 },
  ];
}

/** Ends a rollout: phase, message, condition, finish time. Aborted and RolledBack ones record the
 * traffic they leave (all on the old revision); Failed keeps its frozen split. */
export function finish(rollout: Rollout, phase: RolloutPhase, conditionType: string, message: string, nowMs: number): Rollout {
  return {
    ...rollout,
    weights: phase === 'Aborted' || phase === 'RolledBack' ? restoredWeights(rollout) : rollout.weights,
    phase,
    paused: false,
    request: undefined,
    message,
    finishedAtMs: nowMs,
    updatedAtMs: nowMs,
    conditions: withCondition(rollout, { type: conditionType, message, atMs: nowMs }),
  };
}

/** A failure: RolledBack when the policy restores the previous revision, else Failed (frozen). */
function fail(rollout: Rollout, conditionType: string, message: string, nowMs: number): Rollout {
  const phase = rollout.policy.autoRollback ? 'RolledBack' : 'Failed';
  return finish(rollout, phase, conditionType, rollout.policy.autoRollback ? `${message}; rolled back to ${rollout.fromRevision}` : message, nowMs);
}

function weightsTraffic(weights: readonly RevisionWeight[], extra: Partial<TrafficSplit> = {}): TrafficSplit {
  return { weights, ...extra };
}

/**
 * Plans one step. Shared rules, before the strategy runs:
 * - `abort` ends the rollout Aborted (the shell then restores fromRevision: canary weight to 0
 *   and its replicas drained at once; blue-green switches back while blue is warm; rolling
 *   replaces the new replicas with old ones without going under the floor).
 * - a replica of the new revision that crashed (newReplicaCrashes > 0) fails the rollout; so does
 *   the progress deadline (per strategy). A failure is RolledBack with autoRollback, else Failed.
 * - `pause` (rollout.paused) holds every step and weight; a canary's analysis still runs and
 *   still aborts.
 * Terminal rollouts return no actions: the shell's steady-state plan takes over.
 */
export function planRollout(input: RolloutInput): RolloutPlan {
  const { nowMs } = input;
  const before = input.rollout;
  let rollout: Rollout = before;
  if (rollout.phase !== 'Progressing' && rollout.phase !== 'Paused') {
    return { rollout, actions: [], traffic: undefined, events: [], analysisBaseline: false };
  }
  if (rollout.request === 'abort' && rollout.strategy !== 'blue-green') {
    rollout = finish(rollout, 'Aborted', 'Aborted', `aborted; traffic back on ${rollout.fromRevision}`, nowMs);
    return done(before, rollout, [], undefined, undefined, false);
  }
  if (rollout.newReplicaCrashes > 0) {
    rollout = fail(rollout, 'ReplicaCrashed', `a replica of ${rollout.toRevision} exited while the rollout ran`, nowMs);
    return done(before, rollout, [], undefined, undefined, false);
  }
  const active = input.replicas.filter((r) => r.phase !== 'leaving');
  switch (rollout.strategy) {
    case 'rolling':
      return planRolling(before, rollout, input);
    case 'blue-green':
      return planBlueGreen(before, rollout, input);
    case 'canary':
      return planCanary(before, rollout, input, active);
  }
}

function planRolling(before: Rollout, rollout: Rollout, input: RolloutInput): RolloutPlan {
  const { nowMs } = input;
  const { rolling, progressDeadlineMs } = rollout.policy;
  const desired = input.desiredReplicas;
  const limits = resolveSurgeAndUnavailable(desired, rolling.maxSurge, rolling.maxUnavailable);
  // The schema refuses invalid limits; a stored policy of an older format falls back to surge 1.
  const { maxSurge, maxUnavailable } = limits.ok ? limits : { maxSurge: 1, maxUnavailable: 0 };
  const views: RollingReplica[] = input.replicas.map((r) => ({ replicaId: r.replicaId, revision: r.revision, phase: r.phase, healthySinceMs: r.healthySinceMs, startedAtMs: r.startedAtMs }));
  const plan = planRollingStep({
    revision: rollout.toRevision,
    replicas: desired,
    maxSurge,
    maxUnavailable,
    minReadyMs: rolling.minReadyMs,
    progressDeadlineMs,
    progress: rollout.rolling?.progress ?? { atMs: nowMs, newAvailable: 0, oldActive: 0 },
    replicaViews: views,
    nowMs,
  });
  rollout = { ...rollout, rolling: { progress: plan.progress } };
  if (plan.condition.type === 'Complete') {
    rollout = finish({ ...rollout, step: { ...rollout.step, index: desired, description: 'complete' } }, 'Succeeded', 'Complete', `all ${desired} replicas run ${rollout.toRevision}`, nowMs);
    return done(before, rollout, [], undefined, undefined, false);
  }
  if (plan.condition.type === 'ProgressDeadlineExceeded') {
    rollout = fail(rollout, 'ProgressDeadlineExceeded', `no progress for ${progressDeadlineMs} ms`, nowMs);
    return done(before, rollout, [], undefined, undefined, false);
  }
  const newAvailable = plan.progress.newAvailable;
  rollout = { ...rollout, step: { index: newAvailable, total: desired, description: `${newAvailable} of ${desired} new replicas available` } };
  if (rollout.paused) return done(before, withPhase(rollout, 'Paused', 'paused', nowMs), [], undefined, undefined, false);
  rollout = withPhase(rollout, 'Progressing', rollout.step.description, nowMs);
  return done(before, rollout, plan.actions, undefined, plan.requeueAtMs, false);
}

function withPhase(rollout: Rollout, phase: RolloutPhase, message: string, nowMs: number): Rollout {
  if (rollout.phase === phase && rollout.message === message) return rollout;
  const conditions = rollout.phase === phase ? rollout.conditions : withCondition(rollout, { type: phase, message, atMs: nowMs });
  return { ...rollout, phase, message, conditions, updatedAtMs: nowMs };
}

function planBlueGreen(before: Rollout, rollout: Rollout, input: RolloutInput): RolloutPlan {
  const { nowMs } = input;
  const stored = rollout.blueGreen;
  if (stored === undefined) return done(before, fail(rollout, 'Invalid', 'blue-green state missing', nowMs), [], undefined, undefined, false);
  // An abort goes through the blue-green planner: it switches back at once while blue is fully
  // ready, or waits for blue's replacement replicas if one died meanwhile.
  const request = rollout.request === 'promote' || rollout.request === 'abort' ? rollout.request : undefined;
  const state = { ...stored, replicas: Math.max(1, input.desiredReplicas), request: request ?? stored.request };
  const views: BlueGreenReplica[] = input.replicas.map((r) => ({ replicaId: r.replicaId, revision: r.revision, phase: r.phase, ready: isReady(r), startedAtMs: r.startedAtMs }));
  if (rollout.paused && request !== 'promote' && request !== 'abort') {
    // Hold: the active revision and both sets stay as they are.
    return done(before, withPhase({ ...rollout, request: undefined }, 'Paused', 'paused', nowMs), [], bgTraffic(rollout, stored.activeRevision, false), undefined, false);
  }
  const plan = planBlueGreenStep({ state, replicaViews: views }, nowMs);
  rollout = { ...rollout, request: undefined, paused: request === undefined ? rollout.paused : false, blueGreen: plan.state };
  const index = plan.status === 'progressing' ? 0 : plan.status === 'scale-down-delay' || plan.status === 'succeeded' ? 2 : 1;
  const descriptions: Record<string, string> = {
    progressing: 'starting the new set',
    'waiting-for-promote': 'new set ready: waiting for promote',
    'promote-delay': 'new set ready: promoting after the delay',
    'scale-down-delay': `switched: old set kept warm until ${(plan.state.switchedAtMs ?? nowMs) + plan.state.scaleDownDelayMs}`,
    succeeded: 'complete',
    aborted: 'aborted',
    failed: 'failed',
  };
  rollout = { ...rollout, step: { index, total: 3, description: descriptions[plan.status] ?? plan.status }, weights: activeWeights(rollout, plan.activeRevision) };
  if (plan.status === 'succeeded') {
    return done(before, finish(rollout, 'Succeeded', 'Complete', `${rollout.toRevision} serves; old set drained`, nowMs), [], undefined, undefined, false);
  }
  if (plan.status === 'aborted') return done(before, finish(rollout, 'Aborted', 'Aborted', `aborted; traffic back on ${rollout.fromRevision}`, nowMs), [], undefined, undefined, false);
  if (plan.status === 'failed') {
    const c = plan.condition;
    const why = c.type === 'ProgressDeadlineExceeded' ? `replica ${c.replicaId} not ready ${c.progressDeadlineMs} ms after its start` : 'failed';
    return done(before, fail(rollout, 'ProgressDeadlineExceeded', why, nowMs), [], undefined, undefined, false);
  }
  rollout = withPhase(rollout, plan.status === 'waiting-for-promote' ? 'Paused' : 'Progressing', rollout.step.description, nowMs);
  const actions = plan.actions.map((a): RolloutAction => (a.type === 'start' ? a : { type: 'drain', replicaId: a.replicaId, reason: a.reason }));
  return done(before, rollout, actions, bgTraffic(rollout, plan.activeRevision, plan.previewActive), plan.requeueAtMs, false);
}

function activeWeights(rollout: Rollout, activeRevision: string): RevisionWeight[] {
  return [rollout.fromRevision, rollout.toRevision].map((revision) => ({ revision, percent: revision === activeRevision ? 100 : 0 }));
}

function bgTraffic(rollout: Rollout, activeRevision: string, previewActive: boolean): TrafficSplit {
  const preview = rollout.policy.blueGreen.preview;
  return weightsTraffic(activeWeights(rollout, activeRevision), previewActive && preview !== undefined ? { preview: { ...preview, revision: rollout.toRevision } } : {});
}

function planCanary(before: Rollout, rollout: Rollout, input: RolloutInput, active: readonly RolloutReplica[]): RolloutPlan {
  const { nowMs } = input;
  const desired = input.desiredReplicas;
  const run = rollout.canary;
  if (run === undefined) return done(before, fail(rollout, 'Invalid', 'canary state missing', nowMs), [], undefined, undefined, false);
  const { fromRevision: stable, toRevision: canary, policy } = rollout;
  const canaryActive = active.filter((r) => r.revision === canary);
  const readyCanary = canaryActive.filter(isReady).length;

  // A canary replica that never became ready fails the rollout at its deadline.
  const late = canaryActive.find((r) => r.phase === 'starting' && nowMs - r.startedAtMs >= policy.progressDeadlineMs);
  if (late !== undefined) {
    return done(before, fail(rollout, 'ProgressDeadlineExceeded', `replica ${late.replicaId} not ready ${policy.progressDeadlineMs} ms after its start`, nowMs), [], undefined, undefined, false);
  }

  const events: RolloutEvent[] = [];
  let analysis = run.analysis;
  let analysisBaseline = false;
  let requeueAtMs: number | undefined;
  const spec = analysisSpec(policy);
  const currentWeight = run.state.canaryWeightPercent;
  if (spec !== undefined && analysis !== undefined && currentWeight > 0) {
    const intervalMs = policy.canary.analysis?.intervalMs ?? 10_000;
    if (analysis.intervalStartedAtMs === undefined) {
      analysis = { ...analysis, intervalStartedAtMs: nowMs };
      analysisBaseline = true;
    } else if (nowMs >= analysis.intervalStartedAtMs + intervalMs) {
      if (input.analysisSample !== undefined) {
        const step = analyzeInterval(spec, analysis.state, input.analysisSample);
        const i = step.interval;
        analysis = { ...analysis, state: step.state, last: { ...i, atMs: nowMs }, lastPassAtMs: i.verdict === 'pass' ? nowMs : analysis.lastPassAtMs };
        events.push({
          type: 'rollout.analysis',
          message: `${canary} interval ${step.state.intervals}: ${i.verdict} (${i.requests} requests, ${i.errors5xx} 5xx, success ${i.successRate === undefined ? 'n/a' : i.successRate.toFixed(4)}, ${spec.latencyPercentile} ${Math.round(i.latencyMs)} ms)${i.reasons.length > 0 ? `: ${i.reasons.join('; ')}` : ''}`,
          data: { revision: canary, verdict: i.verdict, runVerdict: step.verdict, requests: i.requests, errors5xx: i.errors5xx, successRate: i.successRate, latencyMs: i.latencyMs, percentile: spec.latencyPercentile, failures: step.state.failures, failureLimit: spec.failureLimit, reasons: i.reasons },
        });
        if (step.verdict === 'fail') {
          rollout = { ...rollout, canary: { ...run, analysis } };
          const message = `analysis failed: ${i.reasons.join('; ')} (${step.state.failures} failed intervals > failureLimit ${spec.failureLimit})`;
          return done(before, finish(rollout, 'Aborted', 'AnalysisFailed', message, nowMs), [], undefined, undefined, false, events);
        }
      }
      analysis = { ...analysis, intervalStartedAtMs: nowMs };
      analysisBaseline = true;
    }
    requeueAtMs = (analysis.intervalStartedAtMs ?? nowMs) + intervalMs;
  }

  const request = rollout.request;
  const gate = analysis === undefined ? undefined : { lastPassAtMs: analysis.lastPassAtMs };
  let state = { ...run.state, canaryReady: readyCanary >= canaryReplicasFor(100, desired), canaryReadyPercent: canaryReadyPercent(readyCanary, desired), analysisGate: gate };
  if (request === 'promote' || request === 'resume') state = { ...state, request };
  const held = rollout.paused && request !== 'promote' && request !== 'resume';
  rollout = { ...rollout, request: undefined, paused: held };
  if (held) {
    rollout = withPhase({ ...rollout, canary: { state: run.state, analysis } }, 'Paused', 'paused', nowMs);
    return done(before, rollout, keepCanarySets(rollout, desired, currentWeight, active), canaryTraffic(rollout, currentWeight), requeueAtMs, analysisBaseline, events);
  }
  const decision = nextCanaryStep(state, nowMs);
  let weight = decision.weights.canaryPercent;
  const phase: RolloutPhase = decision.status === 'waiting-for-promote' ? 'Paused' : 'Progressing';
  let description = describeCanaryStep(policy.canary.steps, decision.state.stepIndex);
  if (decision.status === 'succeeded') {
    // Promotion: the canary grows to full size first, then takes all traffic.
    if (readyCanary < desired) {
      weight = currentWeight;
      description = `promoting: ${readyCanary} of ${desired} canary replicas ready`;
    } else {
      rollout = { ...rollout, canary: { state: decision.state, analysis }, weights: canaryWeights(stable, canary, 100), step: { index: policy.canary.steps.length, total: policy.canary.steps.length, description: 'complete' } };
      return done(before, finish(rollout, 'Succeeded', 'Complete', `${canary} takes all traffic`, nowMs), [], undefined, undefined, false, events);
    }
  }
  if (spec !== undefined && analysis !== undefined && weight > 0 && analysis.intervalStartedAtMs === undefined) {
    // The plan that first gives the canary traffic starts the first interval.
    analysis = { ...analysis, intervalStartedAtMs: nowMs };
    analysisBaseline = true;
    requeueAtMs = nowMs + (policy.canary.analysis?.intervalMs ?? 10_000);
  }
  const stored = { ...decision.state, canaryWeightPercent: weight };
  rollout = {
    ...rollout,
    canary: { state: stored, analysis },
    weights: canaryWeights(stable, canary, weight),
    step: { index: Math.min(decision.state.stepIndex, policy.canary.steps.length), total: policy.canary.steps.length, description },
  };
  const waitingForAnalysis = decision.status === 'paused' && decision.requeueAtMs === undefined;
  rollout = withPhase(rollout, phase, waitingForAnalysis ? `${description}: waiting for a passing analysis interval` : description, nowMs);
  const nextStep = policy.canary.steps[decision.state.stepIndex];
  const targetWeight = decision.status === 'succeeded' ? 100 : nextStep !== undefined && 'setWeight' in nextStep ? Math.max(weight, nextStep.setWeight) : weight;
  const actions = keepCanarySets(rollout, desired, targetWeight, active);
  const requeue = [requeueAtMs, decision.requeueAtMs].filter((v): v is number => v !== undefined);
  return done(before, rollout, actions, canaryTraffic(rollout, weight), requeue.length > 0 ? Math.min(...requeue) : undefined, analysisBaseline, events);
}

function canaryWeights(stable: string, canary: string, canaryPercent: number): RevisionWeight[] {
  return [
    { revision: stable, percent: 100 - canaryPercent },
    { revision: canary, percent: canaryPercent },
  ];
}

function canaryTraffic(rollout: Rollout, canaryPercent: number): TrafficSplit {
  const sticky = rollout.policy.canary.stickySessions ? { stickyCookie: stickyCookieName(rollout.service) } : {};
  return weightsTraffic(canaryWeights(rollout.fromRevision, rollout.toRevision, canaryPercent), sticky);
}

/** Stable stays at full size until promotion; the canary is sized for `canaryPercent`; any third
 * revision (a superseded rollout's replicas) is drained. */
function keepCanarySets(rollout: Rollout, desired: number, canaryPercent: number, active: readonly RolloutReplica[]): RolloutAction[] {
  const { fromRevision: stable, toRevision: canary } = rollout;
  const leftovers = active.filter((r) => r.revision !== stable && r.revision !== canary).map((r): RolloutAction => ({ type: 'drain', replicaId: r.replicaId, reason: 'replaced' }));
  return [...leftovers, ...keepCount(stable, desired, active, 'scale-down'), ...keepCount(canary, canaryReplicasFor(canaryPercent, desired), active, 'scale-down')];
}

/** Adds the events that follow from the change between two rollout states. */
function done(
  before: Rollout,
  after: Rollout,
  actions: readonly RolloutAction[],
  traffic: TrafficSplit | undefined,
  requeueAtMs: number | undefined,
  analysisBaseline: boolean,
  extraEvents: readonly RolloutEvent[] = [],
): RolloutPlan {
  const events: RolloutEvent[] = [...extraEvents];
  const data = { rollout: after.id, from: after.fromRevision, to: after.toRevision, strategy: after.strategy };
  if (after.step.index !== before.step.index || after.step.description !== before.step.description) {
    events.push({ type: 'rollout.step', message: `${after.id} step ${after.step.index}/${after.step.total}: ${after.step.description}`, data: { ...data, step: after.step.index, total: after.step.total } });
  }
  const weightsKey = (r: Rollout): string => r.weights.map((w) => `${w.revision}=${w.percent}`).join(',');
  if (weightsKey(after) !== weightsKey(before) && after.weights.length > 0) {
    events.push({ type: 'rollout.weights', message: `${after.id} weights ${after.weights.map((w) => `${w.revision} ${w.percent}%`).join(', ')}`, data: { ...data, weights: after.weights } });
  }
  if (after.phase !== before.phase) {
    events.push({ type: `rollout.${after.phase.toLowerCase()}` as const, message: `${after.id} ${after.phase}: ${after.message}`, data: { ...data, phase: after.phase, message: after.message } });
  }
  return { rollout: after, actions, traffic, requeueAtMs, events, analysisBaseline };
}
