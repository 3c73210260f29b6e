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
    const pids = await selectedPids(owner);
    if (pids === undefined) return undefined;
    for (const pid of pids) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        if (wanted.has(target)) return true;
      }
    }
    return false;
  } catch {
    return undefined;
  }
}

async function selectedPids(owner: OwnerFilter): Promise<number[] | undefined> {
  const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  if ('processGroup' in owner) {
    const pids: number[] = [];
    for (const pid of entries) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (stat && processGroupOfStat(stat) === owner.processGroup) pids.push(pid);
    }
    return pids;
  }
  const namespace = await readlink(`/proc/${owner.pidNamespaceOf}/ns/pid`).catch(() => undefined);
  if (namespace === undefined) return undefined;
  const pids: number[] = [];
  for (const pid of entries) {
    if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => '')) === namespace) pids.push(pid);
  }
  return pids;
}
