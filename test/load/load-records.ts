// What a load run records: one entry per request, the service as the admin API showed it at each
// poll, and the timeline's events (the gateway's and the runner's own). Plain types, pure.

/** One request of the open-loop generator. */
export interface RequestRecord {
  /** When it was due (scheduled), epoch ms with fractions: latency counts from here, so a
   * request sent late because the generator or the gateway fell behind shows as latency. */
  readonly atMs: number;
  readonly latencyMs: number;
  /** 0: transport error or timeout. */
  readonly status: number;
  /** From the demo app's answer; undefined when the body is not a demo answer. */
  readonly revision?: string | undefined;
  readonly replica?: string | undefined;
  readonly version?: string | undefined;
  /** The transport error's code or message. */
  readonly error?: string | undefined;
}

/** Replicas of one revision at one poll. */
export interface RevisionReplicas {
  readonly revision: string;
  /** Taking traffic. */
  readonly ready: number;
  /** Starting, ready or unhealthy: everything but draining. */
  readonly active: number;
}

/** The service at one poll of GET /v1/services/:name. */
export interface ServiceRecord {
  readonly atMs: number;
  readonly replicas: readonly RevisionReplicas[];
  readonly desiredReplicas?: number | undefined;
  /** Traffic weights of a running blue-green or canary rollout; empty otherwise. */
  readonly weights: ReadonlyArray<{ readonly revision: string; readonly percent: number }>;
  readonly rolloutPhase?: string | undefined;
}

/** An event of GET /v1/events, or one the runner adds (type `load.*`: its own PUTs, commands,
 * measurement windows and errors). */
export interface TimelineRecord {
  readonly atMs: number;
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}
