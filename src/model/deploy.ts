// Deploy policy types: how a service replaces its replicas when its template changes (rolling,
// blue-green, canary), with every default filled in by the schema (config/deploy-schema.ts). Pure.
import type { IntOrPercent } from '../deploy/plan/rolling.js';
import type { CanaryStep } from '../deploy/plan/canary.js';

export type DeployStrategy = 'rolling' | 'blue-green' | 'canary';

export interface RollingParams {
  /** Replicas above `replicas` while rolling: a count or a percentage (rounded up). */
  readonly maxSurge: IntOrPercent;
  /** Replicas below `replicas` while rolling: a count or a percentage (rounded down). */
  readonly maxUnavailable: IntOrPercent;
  /** A new replica must stay healthy this long before it counts as available. */
  readonly minReadyMs: number;
}

export interface PreviewSpec {
  /** Lower-case request header that selects the new set, e.g. `x-dockmaster-preview`. */
  readonly header: string;
  /** The header value that selects it. */
  readonly value: string;
}

export interface BlueGreenParams {
  /** Switch as soon as the new set is fully ready (after autoPromoteDelayMs); else wait for promote. */
  readonly autoPromote: boolean;
  readonly autoPromoteDelayMs: number;
  /** The old set stays warm this long after the switch, so abort and rollback are instant. */
  readonly scaleDownDelayMs: number;
  /** Requests carrying this header reach only the new set while it waits for the switch. */
  readonly preview?: PreviewSpec | undefined;
}

export interface CanaryAnalysisSpec {
  readonly intervalMs: number;
  /** Fewer requests to the canary in an interval: inconclusive, the rollout waits. */
  readonly minRequests: number;
  /** Failed intervals tolerated in total; one more aborts the rollout. */
  readonly failureLimit: number;
  /** Lowest acceptable non-5xx share of the canary's answers, 0..1. */
  readonly minSuccessRate?: number | undefined;
  readonly latency?: { readonly percentile: 'p95' | 'p99'; readonly maxMs: number } | undefined;
}

export interface CanaryParams {
  readonly steps: readonly CanaryStep[];
  /** A cookie pins each client to the revision it first reached, until promotion or abort. */
  readonly stickySessions: boolean;
  readonly analysis?: CanaryAnalysisSpec | undefined;
}

/** A service's deploy policy, defaults filled in. All three sections are always present, so
 * `dockmaster deploy --strategy S` can switch strategy with that section's parameters. */
export interface DeployPolicy {
  readonly strategy: DeployStrategy;
  /** A new replica not healthy this long after its start (or, for rolling, no progress for this
   * long) fails the rollout. */
  readonly progressDeadlineMs: number;
  /** After a failure, restore the previous revision. */
  readonly autoRollback: boolean;
  /** Revisions kept for rollback. */
  readonly revisionHistoryLimit: number;
  readonly rolling: RollingParams;
  readonly blueGreen: BlueGreenParams;
  readonly canary: CanaryParams;
}

export const DEPLOY_DEFAULTS = {
  strategy: 'rolling',
  progressDeadlineMs: 600_000,
  autoRollback: true,
  revisionHistoryLimit: 10,
  rolling: { maxSurge: '25%', maxUnavailable: '25%', minReadyMs: 0 },
  blueGreen: { autoPromote: true, autoPromoteDelayMs: 0, scaleDownDelayMs: 30_000 },
  canary: {
    steps: [{ setWeight: 20 }, { pause: { durationMs: 30_000 } }, { setWeight: 50 }, { pause: { durationMs: 30_000 } }],
    stickySessions: false,
  },
  analysis: { intervalMs: 10_000, minRequests: 50, failureLimit: 0, latencyPercentile: 'p99' },
  preview: { header: 'x-dockmaster-preview', value: '1' },
} as const;

/** The policy a service gets when it sets no `deploy`. Frozen: every service without a `deploy`
 * shares it. */
export const DEFAULT_DEPLOY_POLICY: DeployPolicy = Object.freeze({
  strategy: DEPLOY_DEFAULTS.strategy,
  progressDeadlineMs: DEPLOY_DEFAULTS.progressDeadlineMs,
  autoRollback: DEPLOY_DEFAULTS.autoRollback,
  revisionHistoryLimit: DEPLOY_DEFAULTS.revisionHistoryLimit,
  rolling: Object.freeze({ ...DEPLOY_DEFAULTS.rolling }),
  blueGreen: Object.freeze({ ...DEPLOY_DEFAULTS.blueGreen }),
  canary: Object.freeze({
    steps: Object.freeze(
      DEPLOY_DEFAULTS.canary.steps.map((s): CanaryStep => Object.freeze('pause' in s ? { pause: Object.freeze({ ...s.pause }) } : { ...s })),
    ),
    stickySessions: DEPLOY_DEFAULTS.canary.stickySessions,
  }),
});

/** `deploy: { policy: NAME }`: the deploy section of the `kind: Policy` document named NAME. */
export interface DeployPolicyReference {
  readonly policy: string;
}

/** True for the reference form of a `deploy` section (as written, before resolution). */
export function isDeployPolicyReference(deploy: DeployPolicy | DeployPolicyReference): deploy is DeployPolicyReference {
  return 'policy' in deploy;
}
