// Health state from consecutive check results: a replica becomes healthy after
// `healthyThreshold` passes in a row and unhealthy after `unhealthyThreshold` failures in a
// row (the same rule as Kubernetes probes and Consul's success/failure counters). Pure.

export interface HealthThresholds {
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface HealthState {
  /** False until the first run of passes reaches the threshold. */
  readonly healthy: boolean;
  readonly consecutivePasses: number;
  readonly consecutiveFailures: number;
  /** Set on the check that flipped `healthy`, for events and logs. */
  readonly changed: boolean;
  readonly lastError?: string | undefined;
}

export const INITIAL_HEALTH: HealthState = { healthy: false, consecutivePasses: 0, consecutiveFailures: 0, changed: false };

export function nextHealth(state: HealthState, passed: boolean, thresholds: HealthThresholds, error?: string): HealthState {
  if (passed) {
    const passes = state.consecutivePasses + 1;
    const healthy = state.healthy || passes >= thresholds.healthyThreshold;
    return { healthy, consecutivePasses: passes, consecutiveFailures: 0, changed: healthy !== state.healthy };
  }
  const failures = state.consecutiveFailures + 1;
  const healthy = state.healthy && failures < thresholds.unhealthyThreshold;
  return { healthy, consecutivePasses: 0, consecutiveFailures: failures, changed: healthy !== state.healthy, lastError: error };
}
