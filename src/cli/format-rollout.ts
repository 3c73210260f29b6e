// Renders rollouts and revisions for the CLI: the rollout block of `status SERVICE`, the compact
// rollout column of `status`, the table of `revisions`, and the one-line answers of deploy,
// promote, abort, pause, resume and rollback. Pure: views and `nowMs` in, text out.
import type { ServiceView } from '../admin/admin-service.js';
import type { RevisionView, RolloutView } from '../deploy/service-controller.js';
import { isRunning } from '../model/rollout.js';
import type { DeployOutcome } from './deploy-spec.js';
import { formatDuration, table } from './text-table.js';

/** `a1b2c3d4e5 50%, f6a7b8c9d0 50%`, or undefined when the split follows replica counts. */
export function formatWeights(weights: RolloutView['weights']): string | undefined {
  if (weights.length === 0) return undefined;
  return weights.map((w) => `${w.revision} ${w.percent}%`).join(', ');
}

function formatStep(step: RolloutView['step']): string {
  return `${step.index}/${step.total}${step.description === '' ? '' : `: ${step.description}`}`;
}

function formatPercent(share: number | undefined): string {
  return share === undefined ? 'n/a' : `${(share * 100).toFixed(2)}%`;
}

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(11)}${value}`;
}

function formatAnalysis(analysis: NonNullable<RolloutView['analysis']>, nowMs: number): string {
  const { intervals, passes, failures, inconclusives } = analysis.state;
  const counts = `${intervals} interval${intervals === 1 ? '' : 's'}: ${passes} passed, ${failures} failed, ${inconclusives} inconclusive`;
  const last = analysis.last;
  if (last === undefined) return counts;
  const measured = `${last.requests} requests, ${last.errors5xx} 5xx, success ${formatPercent(last.successRate)}, latency ${Math.round(last.latencyMs)} ms`;
  const reasons = last.reasons.length > 0 ? ` (${last.reasons.join('; ')})` : '';
  return `${counts}; last ${last.verdict} ${formatDuration(nowMs - last.atMs)} ago: ${measured}${reasons}`;
}

/** The rollout's replica counts in the order of its weights: the revision it leaves, the one it
 * brings, then any other (the API sorts them by revision id). */
function byRole(r: RolloutView): RolloutView['replicas'] {
  const rank = (revision: string): number => (revision === r.fromRevision ? 0 : revision === r.toRevision ? 1 : 2);
  return [...r.replicas].sort((a, b) => rank(a.revision) - rank(b.revision));
}

/**
 * The rollout block of `status SERVICE`: which rollout, its phase and step, the traffic split
 * and replicas per revision, the canary analysis, and the latest condition. Example:
 *
 *     rollout:   demo#2 deploy a1b2c3d4e5 -> f6a7b8c9d0 (canary)
 *     phase:     Paused, started 12s ago
 *     step:      1/2: pause until resume or promote
 *     weights:   a1b2c3d4e5 50%, f6a7b8c9d0 50%
 *     replicas:  a1b2c3d4e5 2/2 ready, f6a7b8c9d0 1/1 ready
 *     condition: Paused: pause until resume or promote (3s ago)
 */
export function formatRollout(r: RolloutView, nowMs: number): string {
  const lines = [line('rollout', `${r.id} ${r.kind} ${r.fromRevision} -> ${r.toRevision} (${r.strategy})`)];
  const notes = [r.paused ? 'paused by command' : '', r.pendingRequest ? `${r.pendingRequest} requested` : ''].filter((n) => n !== '');
  const when = isRunning(r.phase) || r.finishedAtMs === undefined ? `started ${formatDuration(nowMs - r.startedAtMs)} ago` : `finished ${formatDuration(nowMs - r.finishedAtMs)} ago`;
  lines.push(line('phase', `${r.phase}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}, ${when}`));
  lines.push(line('step', formatStep(r.step)));
  lines.push(line('weights', formatWeights(r.weights) ?? 'by replica count'));
  if (r.replicas.length > 0) lines.push(line('replicas', byRole(r).map((c) => `${c.revision} ${c.ready}/${c.active} ready`).join(', ')));
  if (r.analysis !== undefined) lines.push(line('analysis', formatAnalysis(r.analysis, nowMs)));
  const last = r.conditions.at(-1);
  if (r.message !== '' && r.message !== r.step.description && r.message !== last?.message) lines.push(line('message', r.message));
  if (last !== undefined) lines.push(line('condition', `${last.type}: ${last.message} (${formatDuration(nowMs - last.atMs)} ago)`));
  return lines.join('\n');
}

/** Rollouts worth a column in `status`: running ones, and Failed ones frozen where they stopped
 * (autoRollback off), which hold a split until someone aborts them. */
export function needsAttention(r: RolloutView | undefined): r is RolloutView {
  return r !== undefined && (isRunning(r.phase) || r.phase === 'Failed');
}

/** The ROLLOUT cell of `status`: `Paused a1b2c3d4e5 50%, f6a7b8c9d0 50%`, `Progressing 1/3`
 * (rolling: by replica count), or `-` when no rollout runs. */
export function rolloutCell(r: RolloutView | undefined): string {
  if (!needsAttention(r)) return '-';
  return `${r.phase} ${formatWeights(r.weights) ?? `${r.step.index}/${r.step.total}`}`;
}

/** The table of `revisions SERVICE`, newest first as the API lists them. */
export function formatRevisions(service: string, revisions: readonly RevisionView[], nowMs: number): string {
  if (revisions.length === 0) return `service ${service} has no revisions yet`;
  const rows = [['REVISION', 'VERSION', 'STATE', 'REPLICAS', 'CREATED', 'SERVED', 'RUNS']];
  for (const r of revisions) {
    const state = [r.stable ? 'stable' : '', r.spec ? 'spec' : '', r.heldBack ? 'held back' : ''].filter((s) => s !== '').join(', ') || '-';
    rows.push([
      r.revision,
      r.version ?? '-',
      state,
      String(r.replicas),
      `${formatDuration(nowMs - r.createdAtMs)} ago`,
      r.servedAtMs === undefined ? '-' : `${formatDuration(nowMs - r.servedAtMs)} ago`,
      r.runs,
    ]);
  }
  return table(rows);
}

/** The answer of promote, abort, pause, resume and rollback, e.g.
 * `service/demo: promoted; rollout demo#2 Progressing, step 2/2: complete`. */
export function formatCommandAnswer(service: string, answer: { readonly message: string; readonly rollout?: RolloutView | undefined }): string {
  const r = answer.rollout;
  const rollout = r === undefined ? '' : `; rollout ${r.id} ${r.fromRevision} -> ${r.toRevision} ${r.phase}, step ${formatStep(r.step)}`;
  return `service/${service}: ${answer.message}${rollout}`;
}

/** The answer of `deploy` once the spec was PUT. */
export function formatDeployOutcome(service: string, outcome: DeployOutcome, waitedMs: number): string {
  switch (outcome.kind) {
    case 'started': {
      const r = outcome.rollout;
      const superseding = outcome.superseded === undefined ? '' : `, superseding ${outcome.superseded}`;
      return `service/${service}: rollout ${r.id} started: ${r.fromRevision} -> ${r.toRevision} (${r.strategy})${superseding}`;
    }
    case 'serves': {
      const r = outcome.rollout;
      return `service/${service}: revision ${outcome.revision} serves${r === undefined ? ' (no rollout needed)' : `; rollout ${r.id} ${r.phase}: ${r.message}`}`;
    }
    case 'pending':
      return `service/${service}: spec applied; no rollout reported within ${formatDuration(waitedMs)} (see dockmaster status ${service})`;
  }
}

/** The answer of a `deploy` that changes no revision (`strategy`: set by this deploy). */
export function formatNoChange(view: ServiceView, strategy: string | undefined): string {
  const { revision, stableRevision, rollout } = view;
  const parts = [`service/${view.name}: no change (revision ${revision ?? '-'})`];
  if (strategy !== undefined) parts.push(`deploy strategy now ${strategy}`);
  if (rollout !== undefined && isRunning(rollout.phase) && rollout.toRevision === revision) {
    parts.push(`rollout ${rollout.id} to it is ${rollout.phase}`);
  } else if (revision !== undefined && stableRevision !== undefined && revision !== stableRevision) {
    // The spec names a revision that does not serve: its rollout was aborted or rolled back.
    parts.push(`note: ${stableRevision} serves and ${revision} is held back (deploy another version, or rollback --to ${revision})`);
  }
  return parts.join('; ');
}
