// Fixtures for the CLI formatter tests: rollouts, revisions and service views as the admin API
// answers them (GET /v1/services/:name, GET /v1/services/:name/revisions).
import type { ServiceView } from '../../../src/admin/admin-service.js';
import type { RevisionView, RolloutView } from '../../../src/deploy/service-controller.js';

export const NOW_MS = 1_700_000_100_000;
export const OLD = 'a1b2c3d4e5';
export const NEW = 'f6a7b8c9d0';

/** A canary (steps [setWeight 50, pause {}]) waiting at its pause, with analysis. */
export const PAUSED_CANARY: RolloutView = {
  id: 'demo#2',
  number: 2,
  service: 'demo',
  kind: 'deploy',
  strategy: 'canary',
  fromRevision: OLD,
  toRevision: NEW,
  phase: 'Paused',
  paused: false,
  step: { index: 1, total: 2, description: 'pause until promote' },
  weights: [
    { revision: OLD, percent: 50 },
    { revision: NEW, percent: 50 },
  ],
  conditions: [
    { type: 'Progressing', message: `rollout ${OLD} -> ${NEW} (canary)`, atMs: NOW_MS - 12_000 },
    { type: 'Paused', message: 'pause until promote', atMs: NOW_MS - 3_000 },
  ],
  startedAtMs: NOW_MS - 12_000,
  updatedAtMs: NOW_MS - 3_000,
  message: 'pause until promote',
  newReplicaCrashes: 0,
  pendingRequest: undefined,
  replicas: [
    { revision: OLD, active: 2, ready: 2 },
    { revision: NEW, active: 1, ready: 1 },
  ],
  analysis: {
    state: { intervals: 4, passes: 2, failures: 1, inconclusives: 1 },
    intervalStartedAtMs: NOW_MS - 1_000,
    lastPassAtMs: NOW_MS - 9_000,
    last: { verdict: 'fail', requests: 120, errors5xx: 14, successRate: 106 / 120, latencyMs: 12.4, reasons: ['success rate 0.8833 < 0.99'], atMs: NOW_MS - 2_000 },
  },
};

/** A rolling rollout one replica in, with a promote waiting to be applied. */
export const ROLLING: RolloutView = {
  id: 'web#5',
  number: 5,
  service: 'web',
  kind: 'deploy',
  strategy: 'rolling',
  fromRevision: OLD,
  toRevision: NEW,
  phase: 'Progressing',
  paused: true,
  step: { index: 1, total: 3, description: '1 of 3 new replicas available' },
  weights: [],
  conditions: [{ type: 'Progressing', message: `rollout ${OLD} -> ${NEW} (rolling)`, atMs: NOW_MS - 30_000 }],
  startedAtMs: NOW_MS - 30_000,
  updatedAtMs: NOW_MS - 1_000,
  message: 'waiting for replica web-f6a7b8-1 to become healthy',
  newReplicaCrashes: 0,
  pendingRequest: 'resume',
  replicas: [
    { revision: OLD, active: 3, ready: 3 },
    { revision: NEW, active: 1, ready: 0 },
  ],
};

/** A rollback that finished ten minutes ago. */
export const FINISHED_ROLLBACK: RolloutView = {
  id: 'demo#3',
  number: 3,
  service: 'demo',
  kind: 'rollback',
  strategy: 'canary',
  fromRevision: NEW,
  toRevision: OLD,
  phase: 'Succeeded',
  paused: false,
  step: { index: 2, total: 2, description: 'complete' },
  weights: [
    { revision: NEW, percent: 0 },
    { revision: OLD, percent: 100 },
  ],
  conditions: [{ type: 'Complete', message: `${OLD} takes all traffic`, atMs: NOW_MS - 600_000 }],
  startedAtMs: NOW_MS - 660_000,
  updatedAtMs: NOW_MS - 600_000,
  finishedAtMs: NOW_MS - 600_000,
  message: `${OLD} takes all traffic`,
  newReplicaCrashes: 0,
  replicas: [{ revision: OLD, active: 2, ready: 2 }],
};

/** A canary that failed its analysis with autoRollback off: frozen at 20%. */
export const FAILED_CANARY: RolloutView = {
  ...PAUSED_CANARY,
  id: 'demo#4',
  phase: 'Failed',
  weights: [
    { revision: OLD, percent: 80 },
    { revision: NEW, percent: 20 },
  ],
  finishedAtMs: NOW_MS - 5_000,
  message: 'analysis failed',
};

export function serviceView(name: string, rollout: RolloutView | undefined, extra: Partial<ServiceView> = {}): ServiceView {
  return {
    name,
    endpoints: [],
    providers: [],
    revision: rollout?.toRevision ?? OLD,
    stableRevision: rollout?.fromRevision ?? OLD,
    rollout,
    desiredReplicas: 2,
    readyReplicas: 2,
    replicas: [],
    crashBackoff: { consecutiveCrashes: 0, nextStartAtMs: 0 },
    ...extra,
  };
}

export const REVISIONS: RevisionView[] = [
  { revision: NEW, createdAtMs: NOW_MS - 120_000, servedAtMs: undefined, stable: false, spec: true, heldBack: true, replicas: 0, runs: 'node demo-app.mjs', version: '2' },
  { revision: OLD, createdAtMs: NOW_MS - 7_200_000, servedAtMs: NOW_MS - 60_000, stable: true, spec: false, heldBack: false, replicas: 2, runs: 'node demo-app.mjs', version: '1' },
  { revision: '0123456789', createdAtMs: NOW_MS - 3 * 86_400_000, stable: false, spec: false, heldBack: false, replicas: 0, runs: 'node old-app.mjs' },
];
