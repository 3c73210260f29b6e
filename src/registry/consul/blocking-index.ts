// The index rules of Consul blocking queries, from Consul's docs ("Blocking Queries"): reset to 0
// when the index goes backwards, treat 0 as 1 so the next request really blocks, and an unchanged
// index means nothing new. Pure.

export interface IndexStep {
  /** The `index` to send with the next request (0: a non-blocking read). */
  readonly nextIndex: number;
  /** True when the answer may hold new data and should be translated and published. */
  readonly changed: boolean;
  /** True when the index went backwards (snapshot restore, a new leader with older data, ...). */
  readonly reset: boolean;
}

/** Reads `X-Consul-Index`; a missing or malformed header counts as 0 (and is then treated as 1). */
export function parseIndexHeader(value: string | readonly string[] | undefined): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw.trim())) return 0;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : 0;
}

/**
 * The step after an answer, given the index held before it (`sent`: the last good answer's, 0
 * before the first read or after a reset) and the index the answer carried (`returned`). Worked
 * examples, reused by the tests:
 *   sent 0,  returned 12 -> next 12, changed            (first read)
 *   sent 12, returned 12 -> next 12, unchanged          (wait elapsed, or an idempotent write)
 *   sent 12, returned 15 -> next 15, changed
 *   sent 15, returned 9  -> next 0,  changed, reset     (went backwards: restart the loop)
 *   sent 0,  returned 0  -> next 1,  changed            (0 is treated as 1: never a busy loop)
 *   sent 1,  returned 0  -> next 1,  unchanged
 */
export function advanceIndex(sent: number, returned: number): IndexStep {
  const effective = Math.max(returned, 1);
  if (effective < sent) return { nextIndex: 0, changed: true, reset: true };
  if (effective === sent) return { nextIndex: sent, changed: false, reset: false };
  return { nextIndex: effective, changed: true, reset: false };
}
