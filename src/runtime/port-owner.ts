// Who listens on a loopback port: tells a replica's own listener from another process that took
// its port first. Does I/O (reads /proc). Linux only; elsewhere every answer is "unknown".
import { readFile, readdir, readlink } from 'node:fs/promises';
import { listeningSocketInodes, processGroupOfStat } from './proc-net.js';

/** Selects the processes that count as the replica. */
export type OwnerFilter = { readonly processGroup: number } | { readonly pidNamespaceOf: number };

/**
 * True when a process selected by `owner` holds a socket listening on `port`; false when the
 * listening socket belongs to nobody selected; undefined when it cannot tell (no /proc, no
 * listener found, no permission).
 */
export async function portOwnedBy(port: number, owner: OwnerFilter): Promise<boolean | undefined> {
  try {
    const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')));
    const inodes = new Set(tables.flatMap((t) => listeningSocketInodes(t, port)));
    if (inodes.size === 0) return undefined;
    const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
    // Fast path: the group leader (the replica's own process) or the container's first process
    // usually holds the listener itself; the scan of every process below is the slow fallback.
    const leader = 'processGroup' in owner ? owner.processGroup : owner.pidNamespaceOf;
    if (await holdsSocket(leader, wanted)) return true;
    const pids = await selectedPids(owner);
    if (pids === undefined) return undefined;
    const held = await Promise.all(pids.filter((pid) => pid !== leader).map((pid) => holdsSocket(pid, wanted)));
    return held.includes(true);
  } catch {
    return undefined;
  }
}

async function holdsSocket(pid: number, wanted: ReadonlySet<string>): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return targets.some((target) => wanted.has(target));
}

/** The processes `owner` selects; /proc is read in parallel (one await, not one per process). */
async function selectedPids(owner: OwnerFilter): Promise<number[] | undefined> {
  const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  if ('processGroup' in owner) {
    const stats = await Promise.all(entries.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')));
    return entries.filter((_, i) => {
      const stat = stats[i] ?? '';
      return stat !== '' && processGroupOfStat(stat) === owner.processGroup;
    });
  }
  const namespace = await readlink(`/proc/${owner.pidNamespaceOf}/ns/pid`).catch(() => undefined);
  if (namespace === undefined) return undefined;
  const namespaces = await Promise.all(entries.map((pid) => readlink(`/proc/${pid}/ns/pid`).catch(() => '')));
  return entries.filter((_, i) => namespaces[i] === namespace);
}
