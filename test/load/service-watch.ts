// Polls the admin API during a run (I/O): the service's replicas per revision, desired count and
// rollout weights, and the service's new events, every `pollMs` until stopped (bounded by
// `maxMs`). A failed poll is counted and the next one tried; the last error is kept for the report.
import type { AdminClient, ServiceView } from './admin-client.js';
import type { RevisionReplicas, ServiceRecord, TimelineRecord } from './load-records.js';
import { nowMs } from './open-loop.js';

export interface ServiceWatch {
  services(): readonly ServiceRecord[];
  events(): readonly TimelineRecord[];
  /** Stops polling after one last poll; resolves with the failed polls and the last error. */
  stop(): Promise<{ readonly failedPolls: number; readonly lastError: string | undefined }>;
}

/** Replicas per revision in one service view (draining ones are neither ready nor active). */
export function replicasByRevision(view: ServiceView): RevisionReplicas[] {
  const byRevision = new Map<string, { ready: number; active: number }>();
  for (const replica of view.replicas ?? []) {
    const entry = byRevision.get(replica.revision) ?? { ready: 0, active: 0 };
    if (replica.state === 'ready') entry.ready += 1;
    if (replica.state !== 'draining') entry.active += 1;
    byRevision.set(replica.revision, entry);
  }
  return [...byRevision].map(([revision, counts]) => ({ revision, ...counts }));
}

export function serviceRecord(atMs: number, view: ServiceView): ServiceRecord {
  const running = view.rollout !== undefined && (view.rollout.phase === 'Progressing' || view.rollout.phase === 'Paused');
  return {
    atMs,
    replicas: replicasByRevision(view),
    desiredReplicas: view.desiredReplicas,
    weights: running ? (view.rollout?.weights ?? []) : [],
    rolloutPhase: view.rollout?.phase,
  };
}

export interface WatchOptions {
  readonly sinceSeq: number;
  readonly pollMs: number;
  readonly maxMs: number;
  /** False when the service is not one dockmaster runs (smoke or steady through a static route):
   * events only. */
  readonly pollService: boolean;
}

export function startServiceWatch(admin: AdminClient, options: WatchOptions): ServiceWatch {
  const services: ServiceRecord[] = [];
  const events: TimelineRecord[] = [];
  let sinceSeq = options.sinceSeq;
  let failedPolls = 0;
  let lastError: string | undefined;
  let stopped = false;
  const deadlineMs = Date.now() + options.maxMs;

  const pollOnce = async (): Promise<void> => {
    try {
      const [view, newEvents] = await Promise.all([options.pollService ? admin.service() : undefined, admin.events(sinceSeq)]);
      if (view !== undefined) services.push(serviceRecord(nowMs(), view));
      for (const e of newEvents) {
        events.push({ atMs: e.atMs, type: e.type, message: e.message, data: e.data });
        sinceSeq = Math.max(sinceSeq, e.seq);
      }
    } catch (err) {
      failedPolls += 1;
      lastError = (err as Error).message;
    }
  };
  const loop = (async () => {
    while (!stopped && Date.now() < deadlineMs) {
      await pollOnce();
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  })();

  return {
    services: () => services,
    events: () => events,
    async stop() {
      stopped = true;
      await loop;
      await pollOnce();
      return { failedPolls, lastError };
    },
  };
}
