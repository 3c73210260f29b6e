// The runner's admin API client (I/O, undici): readiness, the service view and document, PUT of a
// changed document, rollout commands, and events since a sequence number. Each failure is an
// error naming the call and the answer.
import { request } from 'undici';

const ADMIN_TIMEOUT_MS = 5_000;

/** The part of GET /v1/services/:name the runner reads. */
export interface ServiceView {
  readonly revision?: string | undefined;
  readonly stableRevision?: string | undefined;
  readonly document?: Record<string, unknown> | undefined;
  readonly desiredReplicas?: number | undefined;
  readonly readyReplicas?: number | undefined;
  readonly replicas?: ReadonlyArray<{ readonly id: string; readonly revision: string; readonly state: string }> | undefined;
  readonly rollout?: RolloutView | undefined;
}

export interface RolloutView {
  readonly id: string;
  readonly phase: 'Progressing' | 'Paused' | 'Succeeded' | 'Aborted' | 'RolledBack' | 'Failed';
  readonly strategy: string;
  readonly toRevision: string;
  readonly fromRevision: string;
  readonly message: string;
  readonly weights: ReadonlyArray<{ readonly revision: string; readonly percent: number }>;
  readonly replicas: ReadonlyArray<{ readonly revision: string; readonly active: number; readonly ready: number }>;
}

export interface AdminEvent {
  readonly seq: number;
  readonly atMs: number;
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export class AdminError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface AdminClient {
  ready(): Promise<boolean>;
  service(): Promise<ServiceView>;
  put(document: Record<string, unknown>): Promise<ServiceView>;
  command(name: 'promote' | 'abort' | 'pause' | 'resume'): Promise<void>;
  /** The service's events newer than `sinceSeq`, oldest first. */
  events(sinceSeq: number): Promise<AdminEvent[]>;
  /** The newest event's sequence number (0 when there is none). */
  lastSeq(): Promise<number>;
}

export function adminClient(adminUrl: string, service: string, token: string | undefined): AdminClient {
  const servicePath = `/v1/services/${encodeURIComponent(service)}`;
  const call = async <T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await request(`${adminUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: ADMIN_TIMEOUT_MS,
        bodyTimeout: ADMIN_TIMEOUT_MS,
      });
    } catch (err) {
      throw new AdminError(`${method} ${adminUrl}${path}: ${(err as { code?: string }).code ?? (err as Error).message} (is dockmaster running? is ADMIN_URL right?)`, 0);
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, body: parsed as T, text };
  };
  const expectOk = <T>(what: string, answer: { status: number; body: T; text: string }): T => {
    if (answer.status !== 200) throw new AdminError(`${what} answered ${answer.status}: ${answer.text.slice(0, 500)}`, answer.status);
    return answer.body;
  };
  return {
    async ready() {
      return (await call('GET', '/readyz')).status === 200;
    },
    async service() {
      const answer = await call<ServiceView>('GET', servicePath);
      if (answer.status === 404) throw new AdminError(`GET ${servicePath} answered 404: no service '${service}' (is SERVICE right?)`, 404);
      return expectOk(`GET ${servicePath}`, answer);
    },
    async put(document) {
      return expectOk(`PUT ${servicePath}`, await call<ServiceView>('PUT', servicePath, document));
    },
    async command(name) {
      expectOk(`POST ${servicePath}/rollout/${name}`, await call('POST', `${servicePath}/rollout/${name}`));
    },
    async events(sinceSeq) {
      const path = `/v1/events?service=${encodeURIComponent(service)}&since=${sinceSeq}&limit=1000`;
      return expectOk(`GET ${path}`, await call<{ events: AdminEvent[] }>('GET', path)).events;
    },
    async lastSeq() {
      const events = expectOk('GET /v1/events', await call<{ events: AdminEvent[] }>('GET', '/v1/events?limit=1')).events;
      return events[events.length - 1]?.seq ?? 0;
    },
  };
}
