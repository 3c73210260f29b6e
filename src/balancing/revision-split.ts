// Which revision of a split pool a new request goes to (the preview header, the sticky cookie,
// else smooth weighted round-robin over the revisions' percents), and picking from it. Pure.
import type { Endpoint } from '../model/endpoint.js';
import type { CompiledSplit, RevisionGroup } from '../model/routing-table.js';
import type { Picker } from './picker.js';

export interface RevisionShare {
  readonly revision: string;
  /** 0..100; 0 (or anything not above 0) is never chosen. */
  readonly percent: number;
}

/**
 * nginx's smooth weighted round-robin (as WeightedPicker does it for endpoints) over revision
 * percents: each choice adds every share's percent to its current weight, takes the largest and
 * subtracts the total from it. Over every `100 / gcd` choices each revision gets exactly its
 * share, spread out: 20/80 gives one canary request in every 5 (b b a b b... never a burst).
 *
 * Worked example, shares a 20, b 80, current weights starting at 0:
 *   [20, 80] -> b [20, -20]; [40, 60] -> b [40, -40]; [60, 40] -> a [-40, 40];
 *   [-20, 120] -> b [-20, 20]; [0, 100] -> b [0, 0]: 1 of 5 to a, back where it started.
 *
 * State is keyed by revision: a new table (a new shares array, same revisions) continues the
 * rotation, and a changed percent carries the running weights over, so the new split holds from
 * the next round on. A share at 0% loses its running weight. One instance per pool.
 */
export class RevisionSplitChooser {
  private shares: readonly RevisionShare[] | undefined;
  /** Running weights, aligned with `shares`. */
  private current: number[] = [];

  /** Index into `shares` of the next request's revision; -1 when no share is above 0. */
  choose(shares: readonly RevisionShare[]): number {
    if (shares !== this.shares) this.rebase(shares);
    const current = this.current;
    let total = 0;
    let best = -1;
    let bestWeight = 0;
    for (let i = 0; i < shares.length; i++) {
      const percent = (shares[i] as RevisionShare).percent;
      if (!(percent > 0)) continue;
      const weight = (current[i] as number) + percent;
      current[i] = weight;
      total += percent;
      // Strictly greater: ties go to the earlier share, as in nginx.
      if (best === -1 || weight > bestWeight) {
        best = i;
        bestWeight = weight;
      }
    }
    if (best !== -1) current[best] = bestWeight - total;
    return best;
  }

  private rebase(shares: readonly RevisionShare[]): void {
    const carried = new Map<string, number>();
    const previous = this.shares ?? [];
    for (let i = 0; i < previous.length; i++) carried.set((previous[i] as RevisionShare).revision, this.current[i] ?? 0);
    this.current = shares.map((s) => (s.percent > 0 ? (carried.get(s.revision) ?? 0) : 0));
    this.shares = shares;
  }
}

/** Where a request's attempts pick from. */
export interface EndpointChoice {
  /** The whole pool, every revision: what a split falls back to. */
  readonly endpoints: readonly Endpoint[];
  readonly picker: Picker;
  /** Split pools only: the chosen revision's endpoints, tried first with `groupPicker`. */
  readonly group: readonly Endpoint[] | undefined;
  readonly groupPicker: Picker | undefined;
  /** True for a preview request: the group or nothing, never the rest of the pool. */
  readonly groupOnly: boolean;
}

/**
 * The endpoint for the next attempt: from the chosen revision's group while it has one left,
 * else from the whole pool (a request another revision can serve never fails for want of its
 * own), except for preview requests, which only the preview revision may answer.
 */
export function pickEndpoint(choice: EndpointChoice, exclude?: ReadonlySet<string>): Endpoint | undefined {
  const group = choice.group;
  if (group !== undefined && choice.groupPicker !== undefined) {
    const endpoint = choice.groupPicker.pick(group, exclude);
    if (endpoint !== undefined || choice.groupOnly) return endpoint;
  }
  return choice.picker.pick(choice.endpoints, exclude);
}

/** True when raw headers (Node's `rawHeaders`) hold `header` (lower case) with exactly `value`. */
export function hasHeaderValue(rawHeaders: readonly string[], header: string, value: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (rawHeaders[i + 1] === value && isNamed(name, header)) return true;
  }
  return false;
}

/**
 * The group the sticky cookie of `split` names, when it names one that still takes traffic
 * (percent above 0); undefined otherwise (no cookie, an unknown revision, one at 0% after a
 * promotion or abort). Reads every Cookie header of `rawHeaders` without building strings.
 */
export function stickyGroup(rawHeaders: readonly string[], split: CompiledSplit): RevisionGroup | undefined {
  const cookie = split.stickyCookie;
  if (cookie === undefined) return undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (!isNamed(name, 'cookie')) continue;
    const header = rawHeaders[i + 1] as string;
    const start = cookieValueStart(header, cookie);
    if (start === -1) continue;
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    while (end > start && isSpace(header.charCodeAt(end - 1))) end--;
    // A quoted value ("abc") is the same value (RFC 6265 4.1.1).
    let from = start;
    if (end - from >= 2 && header.charCodeAt(from) === 34 && header.charCodeAt(end - 1) === 34) {
      from++;
      end--;
    }
    for (const group of split.groups) {
      const value = group.cookieValue;
      if (group.percent > 0 && value !== undefined && value.length === end - from && header.startsWith(value, from)) return group;
    }
    return undefined;
  }
  return undefined;
}

/** Where the value of cookie `name` starts in a Cookie header (`a=1; b=2`), or -1. */
export function cookieValueStart(header: string, name: string): number {
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at === -1) return -1;
    let before = at - 1;
    while (before >= 0 && isSpace(header.charCodeAt(before))) before--;
    let after = at + name.length;
    while (after < header.length && isSpace(header.charCodeAt(after))) after++;
    // The whole name of a pair: at the start or after `;`, followed by `=`.
    if ((before < 0 || header.charCodeAt(before) === 59) && header.charCodeAt(after) === 61) {
      let value = after + 1;
      while (value < header.length && isSpace(header.charCodeAt(value))) value++;
      return value;
    }
    from = at + 1;
  }
}

/** Header name `name` equals `lower` (lower case) ignoring ASCII case, without making a string. */
function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}
