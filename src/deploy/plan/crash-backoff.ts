// Crash-loop backoff for replacing replicas that exit: 1 s doubling to 60 s, reset once a
// replica has stayed up for the reset window (the kubelet's CrashLoopBackOff rule). Pure.

export const CRASH_BACKOFF_BASE_MS = 1_000;
export const CRASH_BACKOFF_MAX_MS = 60_000;
/** A replica that stays up this long proves the service healthy again: the delay resets. */
export const CRASH_BACKOFF_RESET_MS = 60_000;

export interface CrashBackoff {
  readonly consecutiveCrashes: number;
  /** No replacement starts before this time. */
  readonly nextStartAtMs: number;
}

export const NO_BACKOFF: CrashBackoff = { consecutiveCrashes: 0, nextStartAtMs: 0 };

/** Delay after the n-th crash in a row: 1 s, 2 s, 4 s, ... capped at 60 s. */
export function crashDelayMs(consecutiveCrashes: number): number {
  if (consecutiveCrashes <= 0) return 0;
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** Math.min(consecutiveCrashes - 1, 16));
}

export function afterCrash(backoff: CrashBackoff, nowMs: number): CrashBackoff {
  const consecutiveCrashes = backoff.consecutiveCrashes + 1;
  return { consecutiveCrashes, nextStartAtMs: nowMs + crashDelayMs(consecutiveCrashes) };
}

/** Resets when some replica has been up at least the reset window. */
export function afterUptime(backoff: CrashBackoff, longestUptimeMs: number): CrashBackoff {
  return backoff.consecutiveCrashes > 0 && longestUptimeMs >= CRASH_BACKOFF_RESET_MS ? NO_BACKOFF : backoff;
}
