// Renders service status for `dockmaster status` as aligned plain-text tables, with the rollout
// of each service (format-rollout.ts). Pure.
import type { ServiceView } from '../admin/admin-service.js';
import { formatRollout, needsAttention, rolloutCell } from './format-rollout.js';
import { table } from './text-table.js';

export function formatServices(services: readonly ServiceView[]): string {
  if (services.length === 0) return 'no services';
  // The ROLLOUT column appears only while some service has a rollout to watch.
  const rollouts = services.some((s) => needsAttention(s.rollout));
  const rows = [['SERVICE', 'REVISION', 'READY', 'DESIRED', 'ENDPOINTS', 'SOURCE', ...(rollouts ? ['ROLLOUT'] : [])]];
  for (const s of services) {
    const pickable = s.endpoints.filter((e) => e.pickable).length;
    const sources = [...new Set(s.endpoints.map((e) => e.source))].join(',') || (s.spec ? s.spec.runtime.type : '-');
    rows.push([
      s.name,
      s.revision ?? '-',
      s.readyReplicas === undefined ? '-' : String(s.readyReplicas),
      s.desiredReplicas === undefined ? '-' : String(s.desiredReplicas),
      `${pickable}/${s.endpoints.length}`,
      sources,
      ...(rollouts ? [rolloutCell(s.rollout)] : []),
    ]);
  }
  return table(rows);
}

export function formatService(s: ServiceView, nowMs: number): string {
  const head = [`service:   ${s.name}`];
  if (s.revision !== undefined) head.push(`revision:  ${s.revision}`);
  if (s.stableRevision !== undefined && s.stableRevision !== s.revision) head.push(`stable:    ${s.stableRevision}`);
  if (s.desiredReplicas !== undefined) head.push(`replicas:  ${s.readyReplicas ?? 0} ready / ${s.desiredReplicas} desired`);
  if (s.crashBackoff !== undefined && s.crashBackoff.consecutiveCrashes > 0) {
    const inMs = Math.max(0, s.crashBackoff.nextStartAtMs - nowMs);
    head.push(`backoff:   ${s.crashBackoff.consecutiveCrashes} crashes in a row, next start in ${Math.ceil(inMs / 1000)} s`);
  }
  if (s.pending !== undefined) {
    head.push(`pending:   a replica waits ${Math.round(Math.max(0, nowMs - s.pending.sinceMs) / 1000)} s for a host: ${s.pending.reason}`);
  }
  for (const p of s.providers) {
    if (p.stale) head.push(`provider:  ${p.provider} STALE (serving its last good endpoints): ${p.lastError ?? ''}`);
  }
  const sections = [head.join('\n')];
  // The running rollout, or the last one.
  if (s.rollout !== undefined) sections.push(formatRollout(s.rollout, nowMs));
  if (s.replicas !== undefined && s.replicas.length > 0) {
    const rows = [['REPLICA', 'REVISION', 'STATE', 'ADDRESS', 'RESTARTS', 'AGE', 'LAST ERROR']];
    for (const r of s.replicas) {
      rows.push([r.id, r.revision, r.state, r.address ?? '-', String(r.restarts), `${Math.round((nowMs - r.startedAtMs) / 1000)}s`, r.health.lastError ?? '']);
    }
    sections.push(table(rows));
  }
  const external = s.endpoints.filter((e) => e.source !== 'managed');
  if (external.length > 0) {
    const rows = [['ENDPOINT', 'SOURCE', 'ADDRESS', 'VERSION', 'WEIGHT', 'STATE']];
    for (const e of external) {
      const state = e.ejected ? 'ejected' : e.draining ? 'draining' : e.pickable ? 'ready' : 'unhealthy';
      rows.push([e.id, e.source, e.origin, e.revision ?? '-', String(e.weight), state]);
    }
    sections.push(table(rows));
  }
  return sections.join('\n\n');
}
