// Admin API calls of the k6 scripts that change the service under load: read its view and
// document, PUT a changed document, rollout commands, and polling until a rollout reaches a phase.
// Runs inside k6 (k6/http, sleep); each failure stops the script with what was asked and answered.
import { sleep } from 'k6';
import http from 'k6/http';
import { adminHeaders, adminUrl, SERVICE } from './config.ts';
import { restoredDocument } from './shapes.ts';

/** The part of GET /v1/services/:name the scripts read. */
export interface ServiceView {
  readonly revision?: string;
  readonly stableRevision?: string;
  readonly document?: Record<string, unknown>;
  readonly readyReplicas?: number;
  readonly replicas?: ReadonlyArray<{ readonly revision: string; readonly state: string }>;
  readonly rollout?: RolloutView;
}

export interface RolloutView {
  readonly id: string;
  readonly phase: 'Progressing' | 'Paused' | 'Succeeded' | 'Aborted' | 'RolledBack' | 'Failed';
  readonly toRevision: string;
  readonly message: string;
  readonly weights: ReadonlyArray<{ readonly revision: string; readonly percent: number }>;
  readonly replicas: ReadonlyArray<{ readonly revision: string; readonly active: number; readonly ready: number }>;
}

const SERVICE_PATH = `/v1/services/${encodeURIComponent(SERVICE)}`;

function jsonHeaders(): Record<string, string> {
  return { ...adminHeaders(), 'content-type': 'application/json' };
}

function parse<T>(what: string, status: number, body: unknown): T {
  if (typeof body !== 'string') throw new Error(`${what}: answered ${status} without a body`);
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new Error(`${what}: answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`);
  }
}

/** GET /v1/services/SERVICE. */
export function getService(): ServiceView {
  const res = http.get(adminUrl(SERVICE_PATH), { headers: adminHeaders(), tags: { name: 'admin GET service' } });
  if (res.status !== 200) throw new Error(`GET ${SERVICE_PATH} answered ${res.status} (is SERVICE=${SERVICE} right?): ${String(res.body).slice(0, 300)}`);
  return parse<ServiceView>(`GET ${SERVICE_PATH}`, res.status, res.body);
}

/** The service's document as written (what a client edits and PUTs back). */
export function getDocument(): Record<string, unknown> {
  const document = getService().document;
  if (document === undefined) throw new Error(`GET ${SERVICE_PATH} shows no document: is ${SERVICE} a service dockmaster runs?`);
  return document;
}

/** PUTs a service document; returns the revision its spec names. */
export function putDocument(document: Record<string, unknown>, options: { readonly supersede?: boolean } = {}): string {
  const path = `${SERVICE_PATH}${options.supersede === true ? '?supersede=true' : ''}`;
  const res = http.put(adminUrl(path), JSON.stringify(document), { headers: jsonHeaders(), tags: { name: 'admin PUT service' } });
  if (res.status !== 200) throw new Error(`PUT ${path} answered ${res.status}: ${String(res.body).slice(0, 500)}`);
  return parse<ServiceView>(`PUT ${path}`, res.status, res.body).revision ?? '';
}

/** POST /v1/services/SERVICE/rollout/COMMAND. */
export function rolloutCommand(command: 'promote' | 'abort' | 'pause' | 'resume'): void {
  const path = `${SERVICE_PATH}/rollout/${command}`;
  const res = http.post(adminUrl(path), null, { headers: adminHeaders(), tags: { name: `admin ${command}` } });
  if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}: ${String(res.body).slice(0, 500)}`);
}

/** Whether a rollout runs now (Progressing or Paused). */
export function rolloutRunning(view: ServiceView): boolean {
  return view.rollout !== undefined && (view.rollout.phase === 'Progressing' || view.rollout.phase === 'Paused');
}

/**
 * Polls every 250 ms until the rollout to `toRevision` satisfies `done`, and returns its view.
 * Throws when that rollout ends in another phase (Aborted, RolledBack, Failed) or after `timeoutMs`.
 */
export function waitRollout(toRevision: string, what: string, done: (rollout: RolloutView) => boolean, timeoutMs: number): RolloutView {
  const deadlineMs = Date.now() + timeoutMs;
  let last: RolloutView | undefined;
  for (;;) {
    const rollout = getService().rollout;
    if (rollout !== undefined && rollout.toRevision === toRevision) {
      last = rollout;
      if (done(rollout)) return rollout;
      if (rollout.phase === 'Aborted' || rollout.phase === 'RolledBack' || rollout.phase === 'Failed') {
        throw new Error(`rollout ${rollout.id} to ${toRevision} ended ${rollout.phase} instead of ${what}: ${rollout.message}`);
      }
    }
    if (Date.now() > deadlineMs) {
      throw new Error(`rollout to ${toRevision} not ${what} after ${timeoutMs} ms (last seen: ${last === undefined ? 'none' : `${last.phase}: ${last.message}`})`);
    }
    sleep(0.25);
  }
}

/** Ready replicas of the service now. */
export function readyReplicas(view: ServiceView): number {
  return view.readyReplicas ?? (view.replicas ?? []).filter((r) => r.state === 'ready').length;
}

/**
 * Puts the document a run found back, with the version the service runs now (no further
 * rollout); a rollout still running (an update that timed out, a canary never promoted) is
 * aborted first, back to the revision that served before it.
 */
export function restoreService(original: Record<string, unknown>): void {
  if (rolloutRunning(getService())) rolloutCommand('abort');
  const version = getDocument()['version'];
  putDocument(restoredDocument(original, typeof version === 'string' ? version : undefined));
}
