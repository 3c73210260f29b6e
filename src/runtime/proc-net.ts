// Parses Linux /proc/net/tcp and /proc/net/tcp6 text: which socket inodes listen on a port. Pure.

const TCP_LISTEN = '0A';

/**
 * Inodes of sockets in LISTEN state on `port`, any local address (127.0.0.1, 0.0.0.0, ::).
 * Row format: "sl local_address rem_address st ... uid timeout inode ...", addresses as
 * HEXADDR:HEXPORT; the header line and malformed rows are skipped.
 */
export function listeningSocketInodes(procNetTcpText: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcpText.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !fields[0]?.endsWith(':')) continue;
    const local = fields[1] ?? '';
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    if (fields[3] !== TCP_LISTEN || Number.parseInt(portHex, 16) !== port) continue;
    const inode = fields[9];
    if (inode && inode !== '0') inodes.push(inode);
  }
  return inodes;
}

/** The process group id from /proc/PID/stat text ("pid (comm) state ppid pgrp ..."); comm may
 * contain spaces and parentheses, so fields are counted after the last ')'. */
export function processGroupOfStat(statText: string): number | undefined {
  const after = statText.slice(statText.lastIndexOf(')') + 1).trim().split(/\s+/);
  const pgrp = Number(after[2]);
  return Number.isInteger(pgrp) ? pgrp : undefined;
}
