// Rollout types: one replacement of a service's revision by another, as the deployment controller
// plans it step by step, persists it and the admin API shows it. Pure types.
import type { DeployPolicy, DeployStrategy } from './deploy.js';
import type { RevisionWeight } from './traffic.js';
import type { RollingProgress } from '../deploy/plan/rolling.js';
import type { BlueGreenState } from '../deploy/plan/blue-green.js';
import type { CanaryState } from '../deploy/plan/canary.js';
import type { AnalysisState, IntervalResult } from '../deploy/plan/analysis.js';

export type RolloutPhase = 'Progressing' | 'Paused' | 'Succeeded' | 'Aborted' | 'RolledBack' | 'Failed';

export const ROLLOUT_PHASES: readonly RolloutPhase[] = ['Progressing', 'Paused', 'Succeeded', 'Aborted', 'RolledBack', 'Failed'];

/** Progressing and Paused rollouts are running: the controller keeps planning them. Failed is
 * final too, but frozen where it stopped (autoRollback off) until an abort or a new spec. */
export function isRunning(phase: RolloutPhase): boolean {
  return phase === 'Progressing' || phase === 'Paused';
}

export interface RolloutCondition {
  /** Progressing, Paused, Complete, Aborted, ProgressDeadlineExceeded, ReplicaCrashed, AnalysisFailed, ... */
  readonly type: string;
  readonly message: string;
  readonly atMs: number;
}

/** A command from the admin API, consumed by the next plan. */
export type RolloutRequest = 'promote' | 'abort' | 'resume';

export interface CanaryRun {
  readonly state: CanaryState;
  readonly analysis?:
    | {
        readonly state: AnalysisState;
        /** Start of the interval being measured; undefined until the canary takes traffic. */
        readonly intervalStartedAtMs: number | undefined;
        readonly lastPassAtMs: number | undefined;
        readonly last?: (IntervalResult & { readonly atMs: number }) | undefined;
      }
    | undefined;
}

export interface Rollout {
  /** `<service>#<number>`: unique per service. */
  readonly id: string;
  readonly number: number;
  readonly service: string;
  /** rollback: started by `rollback` (to an earlier revision) rather than by a new spec. */
  readonly kind: 'deploy' | 'rollback';
  readonly strategy: DeployStrategy;
  /** The policy as it was when the rollout began. */
  readonly policy: DeployPolicy;
  /** The revision serving when the rollout began (restored by abort and rollback). */
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly phase: RolloutPhase;
  /** Paused by `pause` (a canary waiting at a pause step without duration is Paused too, with
   * this false). */
  readonly paused: boolean;
  readonly request?: RolloutRequest | undefined;
  readonly step: { readonly index: number; readonly total: number; readonly description: string };
  /** Share of new requests per revision; empty for rolling (the split follows replica counts). */
  readonly weights: readonly RevisionWeight[];
  /** Newest last, bounded. */
  readonly conditions: readonly RolloutCondition[];
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  readonly finishedAtMs?: number | undefined;
  /** Why it ended (or why it waits), one line. */
  readonly message: string;
  /** Replicas of the new revision that exited on their own while the rollout ran. */
  readonly newReplicaCrashes: number;
  readonly rolling?: { readonly progress: RollingProgress } | undefined;
  readonly blueGreen?: BlueGreenState | undefined;
  readonly canary?: CanaryRun | undefined;
}

/** A revision dockmaster ran for a service, kept for rollback. */
export interface RevisionRecord<T = unknown> {
  readonly revision: string;
  /** The replica template, so the revision can be started again (rollback, restart). */
  readonly template: T;
  readonly createdAtMs: number;
  /** When it last became the serving revision. */
  readonly servedAtMs?: number | undefined;
}

/** What the controller persists per service (state folder), to resume after a restart. */
export interface ServiceDeployState<T = unknown> {
  readonly format: 1;
  readonly service: string;
  /** The revision that serves when no rollout runs. */
  readonly stableRevision: string | undefined;
  /** A spec revision deliberately not run (its rollout was aborted or rolled back, or a rollback
   * went past it); a different spec revision starts a rollout again. */
  readonly heldBackRevision?: string | undefined;
  /** Newest first, at most the policy's revisionHistoryLimit (the stable one always kept). */
  readonly revisions: readonly RevisionRecord<T>[];
  /** The running rollout, or the last one. */
  readonly rollout?: Rollout | undefined;
  readonly nextRolloutNumber: number;
}
