// Renders service status for `dockmaster status` as aligned plain-text tables. Pure.
import type { ServiceStatus } from '../deploy/service-controller.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function formatServices(services: readonly ServiceStatus[]): string {
  if (services.length === 0) return 'no services';
  const rows = [['SERVICE', 'REVISION', 'READY', 'DESIRED', 'RUNTIME']];
  for (const s of services) rows.push([s.name, s.revision, String(s.readyReplicas), String(s.desiredReplicas), s.spec.runtime.type]);
  return table(rows);
}

export function formatService(s: ServiceStatus, nowMs: number): string {
  const head = [
    `service:   ${s.name}`,
    `revision:  ${s.revision}`,
    `replicas:  ${s.readyReplicas} ready / ${s.desiredReplicas} desired`,
  ];
  if (s.crashBackoff.consecutiveCrashes > 0) {
    const inMs = Math.max(0, s.crashBackoff.nextStartAtMs - nowMs);
    head.push(`backoff:   ${s.crashBackoff.consecutiveCrashes} crashes in a row, next start in ${Math.ceil(inMs / 1000)} s`);
  }
  const rows = [['REPLICA', 'REVISION', 'STATE', 'ADDRESS', 'RESTARTS', 'AGE', 'LAST ERROR']];
  for (const r of s.replicas) {
    rows.push([r.id, r.revision, r.state, r.address ?? '-', String(r.restarts), `${Math.round((nowMs - r.startedAtMs) / 1000)}s`, r.health.lastError ?? '']);
  }
  return `${head.join('\n')}\n\n${table(rows)}`;
}
