// Generations of replica starts: a number that grows with every start, also across dockmaster
// restarts (it follows the clock), so of two containers of one replica id the newer is known. Pure.

/** The generation after `last`: the clock's ms when that is larger, else last + 1. Seeding from
 * the clock makes a later dockmaster's starts outrank an earlier one's (while clocks move forward). */
export function nextGeneration(last: number, nowMs: number): number {
  return Math.max(last + 1, Math.floor(nowMs));
}
