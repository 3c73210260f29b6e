// Which Docker events make the Docker provider list again, and when the next list may start
// (bursts coalesce into one list, the first is not delayed). Pure.
import type { DockerEventLike } from '../../runtime/docker/observe-container.js';
import { dockerLabelKeys } from './translate-containers.js';

/** Container actions that can change whether or where a labelled container serves. Docker matches
 * `health_status` against "health_status: healthy" etc. as a prefix. */
export const RESYNC_ACTIONS = ['start', 'die', 'stop', 'destroy', 'pause', 'unpause', 'health_status'] as const;

/** GET /events filters: container events of labelled containers, only the actions above (health
 * check execs fire exec_create/exec_start/exec_die every interval; they are noise here). */
export function resyncEventFilters(labelPrefix: string): Record<string, string[]> {
  return { type: ['container'], label: [dockerLabelKeys(labelPrefix).service], event: [...RESYNC_ACTIONS] };
}

/** True when the event means "list again": checked here too, as the daemon's filter is only an
 * optimisation (and a double or an older daemon may not apply it). */
export function isResyncEvent(event: DockerEventLike, labelPrefix: string): boolean {
  if (event.Type !== undefined && event.Type !== 'container') return false;
  const attributes = event.Actor?.Attributes;
  if (attributes?.[dockerLabelKeys(labelPrefix).service] === undefined) return false;
  const action = event.Action ?? event.status ?? '';
  return RESYNC_ACTIONS.some((wanted) => action === wanted || (wanted === 'health_status' && action.startsWith('health_status')));
}

export interface ResyncState {
  /** An event arrived since the last list started. */
  readonly pending: boolean;
  /** A list is in flight: its end re-decides, so events during it cost one more list, not many. */
  readonly running: boolean;
  /** When the last list started (undefined before the first). */
  readonly lastStartMs: number | undefined;
}

export type ResyncDecision =
  | { readonly kind: 'idle' }
  | { readonly kind: 'start' }
  | { readonly kind: 'wait'; readonly delayMs: number };

/**
 * Level-triggered coalescing: any number of events while a list runs or within minIntervalMs of
 * the last start become one list; an event after a quiet spell starts one at once. So a burst of
 * N events costs at most two lists, and lists start at most once per minIntervalMs.
 */
export function decideResync(state: ResyncState, nowMs: number, minIntervalMs: number): ResyncDecision {
  if (!state.pending || state.running) return { kind: 'idle' };
  if (state.lastStartMs === undefined) return { kind: 'start' };
  const readyAtMs = state.lastStartMs + minIntervalMs;
  return nowMs >= readyAtMs ? { kind: 'start' } : { kind: 'wait', delayMs: readyAtMs - nowMs };
}
