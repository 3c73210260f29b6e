// Scaling rate limits, as in the Kubernetes HPA's behavior policies: `percent` or `replicas` per
// `periodMs`, measured from the replica count at the start of the period (from a history of the
// autoscaler's own scale events), with selectPolicy max / min / disabled per direction. Pure.

import type { ScalingBehavior, ScalingRule } from '../model/autoscale.js';
import { ceilReplicas, floorReplicas, formatMs, formatNumber } from './replica-math.js';

/** One change the autoscaler made. */
export interface ScaleEvent {
  readonly atMs: number;
  readonly fromReplicas: number;
  readonly toReplicas: number;
}

/** Replicas added and removed by events inside `(nowMs - periodMs, nowMs]`. */
function changesInPeriod(events: readonly ScaleEvent[], periodMs: number, nowMs: number): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const event of events) {
    if (event.atMs <= nowMs - periodMs) continue;
    const change = event.toReplicas - event.fromReplicas;
    if (change > 0) added += change;
    else removed -= change;
  }
  return { added, removed };
}

/** The replica count at the start of the rule's period: current, minus what was added, plus what was removed. */
function periodStartReplicas(rule: ScalingRule, events: readonly ScaleEvent[], currentReplicas: number, nowMs: number): number {
  const { added, removed } = changesInPeriod(events, rule.periodMs, nowMs);
  return Math.max(0, currentReplicas - added + removed);
}

function describeRule(rule: ScalingRule): string {
  return `${formatNumber(rule.value)}${rule.type === 'percent' ? '%' : ' replicas'} per ${formatMs(rule.periodMs)}`;
}

/**
 * HPA's calculateScaleUpLimitWithScalingRules: the highest count that scale-up may reach now.
 * percent: ceil(start x (1 + value / 100)); replicas: start + value. `max` takes the rule that
 * allows the largest change, `min` the smallest, `disabled` allows none (current).
 *
 * Worked examples (the HPA docs' default scale-up: 100% and 4 replicas per 15 s; the tests reuse them):
 * - max, current 1, no events -> max(2, 5) = 5; current 10 -> max(20, 14) = 20.
 * - min, current 1 -> min(2, 5) = 2; current 10 -> min(20, 14) = 14.
 * - percent 100 only, scaled 1 -> 2 at 0 s: at 10 s the period started at 1 -> 2 (no more);
 *   at 15 s the event has left the period -> 4.
 * - disabled -> current; no rules at all -> no limit (Infinity). HPA's validation rejects an
 *   empty list; here it means "unlimited", and `disabled` means "no change".
 */
export function scaleUpLimit(behavior: ScalingBehavior, events: readonly ScaleEvent[], currentReplicas: number, nowMs: number): number {
  if (behavior.selectPolicy === 'disabled') return currentReplicas;
  if (behavior.policies.length === 0) return Number.POSITIVE_INFINITY;
  const proposals = behavior.policies.map((rule) => {
    const start = periodStartReplicas(rule, events, currentReplicas, nowMs);
    return rule.type === 'percent' ? ceilReplicas(start * (1 + rule.value / 100)) : start + rule.value;
  });
  const limit = behavior.selectPolicy === 'min' ? Math.min(...proposals) : Math.max(...proposals);
  // As in HPA: a limit below current (changes already spent) holds current until events age out.
  return Math.max(limit, currentReplicas);
}

/**
 * HPA's calculateScaleDownLimitWithBehaviors: the lowest count that scale-down may reach now.
 * percent: floor(start x (1 - value / 100)); replicas: start - value. `max` takes the rule that
 * allows the largest change (the lowest count), `min` the smallest, `disabled` none.
 *
 * Worked examples (the HPA docs: 4 replicas and 10% per 60 s; the tests reuse them):
 * - max, current 80 -> min(76, 72) = 72; current 30 -> min(26, 27) = 26.
 * - min, current 80 -> max(76, 72) = 76.
 * - the default 100% per 15 s, current 7 -> 0.
 * - 10% per 60 s, scaled 10 -> 9 at 0 s: at 30 s the period started at 10 -> 9 (no more).
 * - disabled -> current; no rules at all -> 0 (no limit).
 */
export function scaleDownLimit(behavior: ScalingBehavior, events: readonly ScaleEvent[], currentReplicas: number, nowMs: number): number {
  if (behavior.selectPolicy === 'disabled') return currentReplicas;
  if (behavior.policies.length === 0) return 0;
  const proposals = behavior.policies.map((rule) => {
    const start = periodStartReplicas(rule, events, currentReplicas, nowMs);
    return rule.type === 'percent' ? floorReplicas(start * (1 - rule.value / 100)) : Math.max(0, start - rule.value);
  });
  const limit = behavior.selectPolicy === 'min' ? Math.max(...proposals) : Math.min(...proposals);
  return Math.min(limit, currentReplicas);
}

export interface RateLimitArgs {
  readonly scaleUp: ScalingBehavior;
  readonly scaleDown: ScalingBehavior;
  readonly events: readonly ScaleEvent[];
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly nowMs: number;
}

export interface RateLimited {
  readonly replicas: number;
  /** True when a rule held the count back. */
  readonly limited: boolean;
  readonly reason: string;
}

/** Applies the limit of the direction `desiredReplicas` moves in. */
export function limitScaleRate(args: RateLimitArgs): RateLimited {
  const { scaleUp, scaleDown, events, currentReplicas: current, desiredReplicas: desired, nowMs } = args;
  if (desired > current) {
    const limit = scaleUpLimit(scaleUp, events, current, nowMs);
    if (desired <= limit) return { replicas: desired, limited: false, reason: `rate: up to ${desired} allowed (${Number.isFinite(limit) ? `limit ${limit}` : 'no rules'})` };
    const rules = scaleUp.selectPolicy === 'disabled' ? 'scale-up disabled' : `${scaleUp.selectPolicy} of ${scaleUp.policies.map(describeRule).join(', ')}`;
    return { replicas: limit, limited: true, reason: `rate: up to ${limit} instead of ${desired} (${rules})` };
  }
  if (desired < current) {
    const limit = scaleDownLimit(scaleDown, events, current, nowMs);
    if (desired >= limit) return { replicas: desired, limited: false, reason: `rate: down to ${desired} allowed (limit ${limit})` };
    const rules = scaleDown.selectPolicy === 'disabled' ? 'scale-down disabled' : `${scaleDown.selectPolicy} of ${scaleDown.policies.map(describeRule).join(', ')}`;
    return { replicas: limit, limited: true, reason: `rate: down to ${limit} instead of ${desired} (${rules})` };
  }
  return { replicas: desired, limited: false, reason: `rate: no change` };
}

/** Appends a change and forgets events older than every rule's period (HPA's cleanup). */
export function recordScaleEvent(events: readonly ScaleEvent[], event: ScaleEvent, behaviors: readonly ScalingBehavior[]): readonly ScaleEvent[] {
  const longestPeriodMs = Math.max(0, ...behaviors.flatMap((b) => b.policies.map((rule) => rule.periodMs)));
  const kept = events.filter((e) => e.atMs > event.atMs - longestPeriodMs);
  return event.toReplicas === event.fromReplicas ? kept : [...kept, event];
}
