// Bench helper (I/O): a process tree and its CPU time, read from /proc/<pid>/stat,
// so every target (node children, nginx master + worker, dockmaster) is measured the same way.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks (all threads of the process). */
  cpuTicks: number;
}

let clockTicksPerSecond: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on practically every Linux). */
export function clockTicksPerS(): number {
  if (clockTicksPerSecond === undefined) {
    let ticks = 100;
    try {
      const parsed = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10);
      if (Number.isFinite(parsed) && parsed > 0) ticks = parsed;
    } catch {
      // getconf missing: keep the Linux default
    }
    clockTicksPerSecond = ticks;
  }
  return clockTicksPerSecond;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number.parseInt(line.slice(0, open), 10);
  // Fields after the name start at field 3 (state): ppid is field 4, utime 14, stime 15.
  const rest = line.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![pid, ppid, utime, stime].every(Number.isFinite)) return undefined;
  return { pid, ppid, cpuTicks: utime + stime };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // the process is gone
  }
}

/** `rootPid` and every live descendant of it (empty when the root is gone). */
function processTree(rootPid: number): ProcStat[] {
  const root = readStat(rootPid);
  if (root === undefined) return [];
  const children = new Map<number, ProcStat[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === undefined) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  const tree: ProcStat[] = [];
  const queue: ProcStat[] = [root];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

/** CPU ticks used so far by `rootPid` and every live descendant of it. */
export function treeCpuTicks(rootPid: number): number {
  const tree = processTree(rootPid);
  if (tree.length === 0) throw new Error(`process ${rootPid} is gone`);
  return tree.reduce((sum, stat) => sum + stat.cpuTicks, 0);
}

/** The pids of `rootPid`'s tree, root first. */
export function treePids(rootPid: number): number[] {
  return processTree(rootPid).map((stat) => stat.pid);
}

/** Microseconds of CPU for a number of clock ticks. */
export function ticksToUs(ticks: number): number {
  return (ticks * 1e6) / clockTicksPerS();
}
