// How a service's traffic is split between its revisions during a blue-green or canary rollout,
// as the deployment controller publishes it and the routing table carries it. Pure types.

export interface RevisionWeight {
  readonly revision: string;
  /** Share of new requests, 0..100; the weights of one split sum to 100. */
  readonly percent: number;
}

export interface TrafficSplit {
  readonly weights: readonly RevisionWeight[];
  /** Requests with `header: value` go only to `revision` (blue-green preview). */
  readonly preview?: { readonly header: string; readonly value: string; readonly revision: string } | undefined;
  /** Pin each client to the revision it first reached with this cookie (canary sticky sessions). */
  readonly stickyCookie?: string | undefined;
}

/** The cookie a sticky canary of `service` sets. */
export function stickyCookieName(service: string): string {
  return `dm-rev-${service}`;
}
