// The one picker interface every load-balancing policy implements. Pure.
import type { Endpoint } from '../model/endpoint.js';

/** Live load the proxy tracks per endpoint id; read-only to pickers. */
export interface EndpointLoad {
  inFlight(endpointId: string): number;
}

/**
 * Chooses the endpoint for the next attempt. Pickers hold only their own cursor state; they
 * skip endpoints that are not pickable (unhealthy, draining, weight 0) and those in `exclude`
 * (already tried by this request). Returns undefined when nothing is left.
 * Create one picker per pool (see create-picker.ts) and keep it across routing-table versions,
 * so rotations and weights carry over when the endpoint array is replaced.
 */
export interface Picker {
  pick(endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined;
}

export interface PickerDeps {
  readonly load: EndpointLoad;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
}
