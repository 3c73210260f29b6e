// Waits (I/O: polls the admin API) until the rollout to a revision reaches what a scenario waits
// for; fails early when that rollout ends otherwise (Aborted, RolledBack, Failed), after the
// timeout, or when the run is interrupted. Also sleeps that end on interruption.
import type { AdminClient, RolloutView, ServiceView } from './admin-client.js';

const POLL_MS = 100;

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleepMs(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

export function rolloutRunning(view: ServiceView): boolean {
  return view.rollout !== undefined && (view.rollout.phase === 'Progressing' || view.rollout.phase === 'Paused');
}

const ENDED_OTHERWISE = new Set(['Aborted', 'RolledBack', 'Failed']);

export async function waitRollout(
  admin: AdminClient,
  toRevision: string,
  what: string,
  done: (rollout: RolloutView) => boolean,
  options: { readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<RolloutView> {
  const deadlineMs = Date.now() + options.timeoutMs;
  let last: RolloutView | undefined;
  for (;;) {
    if (options.signal.aborted) throw new Error(`interrupted while waiting for the rollout to ${toRevision} to be ${what}`);
    const rollout = (await admin.service()).rollout;
    if (rollout !== undefined && rollout.toRevision === toRevision) {
      last = rollout;
      if (done(rollout)) return rollout;
      if (ENDED_OTHERWISE.has(rollout.phase)) throw new Error(`rollout ${rollout.id} to ${toRevision} ended ${rollout.phase} instead of ${what}: ${rollout.message}`);
    }
    if (Date.now() > deadlineMs) {
      throw new Error(`rollout to ${toRevision} not ${what} after ${options.timeoutMs} ms (last seen: ${last === undefined ? 'no rollout to it' : `${last.id} ${last.phase}: ${last.message}`})`);
    }
    await sleepMs(POLL_MS, options.signal);
  }
}
