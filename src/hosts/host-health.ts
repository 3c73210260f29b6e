// Whether a Docker host is up, suspect or lost, from when it last gave a sign of life, and when to
// look at it again (the next ping, or the moment its state would change). Pure: every time is an
// argument.
import type { HostHealthState } from '../model/host-view.js';

export interface HostHealthInput {
  readonly nowMs: number;
  /** Its last sign of life: a ping answered, a Docker event, any API answer. Undefined: none
   * since watching began. */
  readonly lastSeenMs: number | undefined;
  /** When watching began: a host never heard from counts as silent since then. */
  readonly watchingSinceMs: number;
  /** When the last ping was sent; undefined: none yet. */
  readonly lastPingAtMs: number | undefined;
  readonly checkIntervalMs: number;
  readonly hostDownAfterMs: number;
}

export interface HostHealthDecision {
  readonly state: HostHealthState;
  /** How long the host has been silent. */
  readonly silentMs: number;
  /** A ping is due now. */
  readonly pingDue: boolean;
  /** When to decide again: the next ping or the next change of state, whichever comes first. */
  readonly nextCheckAtMs: number;
}

/** Silence tolerated while up: a ping goes out every interval and may take up to an interval (its
 * timeout) to answer, so an up host is silent for at most two intervals. */
export function suspectAfterMs(checkIntervalMs: number, hostDownAfterMs: number): number {
  return Math.min(2 * checkIntervalMs, hostDownAfterMs);
}

/**
 * The state of a host:
 * - lost when silent for hostDownAfterMs or longer (never heard from counts from watchingSinceMs);
 * - suspect when silent for two check intervals or longer, or not heard from yet;
 * - up otherwise.
 * A lost host is up again at its first sign of life (silence restarts at 0).
 *
 * Worked example (check every 200 ms, down after 1000 ms, last seen at 10_000):
 * at 10_100 up, next check at 10_200 (ping); at 10_400 suspect, next check at the next ping;
 * at 11_000 lost. A ping answered at 11_050 makes it up again.
 */
export function decideHostHealth(input: HostHealthInput): HostHealthDecision {
  const { nowMs, checkIntervalMs, hostDownAfterMs } = input;
  const silentSinceMs = input.lastSeenMs ?? input.watchingSinceMs;
  const silentMs = Math.max(0, nowMs - silentSinceMs);
  const suspectMs = suspectAfterMs(checkIntervalMs, hostDownAfterMs);
  const state: HostHealthState =
    silentMs >= hostDownAfterMs ? 'lost' : input.lastSeenMs === undefined || silentMs >= suspectMs ? 'suspect' : 'up';
  const nextPingAtMs = input.lastPingAtMs === undefined ? nowMs : input.lastPingAtMs + checkIntervalMs;
  const pingDue = nextPingAtMs <= nowMs;
  const changes: number[] = [pingDue ? nowMs + checkIntervalMs : nextPingAtMs];
  if (state === 'up') changes.push(silentSinceMs + suspectMs);
  if (state !== 'lost') changes.push(silentSinceMs + hostDownAfterMs);
  return { state, silentMs, pingDue, nextCheckAtMs: Math.min(...changes) };
}
