// Bench model (pure): a proxy under test, whatever runs it. The bench loads `url` and measures
// the CPU of the process tree rooted at `pid`; adding a target means writing one starter.
import type { ChildProcess } from 'node:child_process';

export interface Target {
  /** Short name used in the table and in BENCH_TARGETS. */
  name: string;
  /** What it is, printed above the table. */
  description: string;
  /** Loopback URL the load is sent to. */
  url: string;
  /** The process whose tree's CPU time is measured. */
  child: ChildProcess;
  /** Where its output goes, for error messages; undefined when it inherits the bench's. */
  logPath: string | undefined;
  /** Stops it (gracefully first, always bounded); resolves with a note if it did not exit cleanly. */
  stop(): Promise<string | undefined>;
}
