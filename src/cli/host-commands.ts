// The CLI's host commands against a running gateway's admin API: `hosts [NAME]` and
// `host cordon|uncordon|drain NAME` (drain waits until the host holds no replica). I/O (HTTP,
// timers while drain waits).
import type { HostStatusView } from '../admin/admin-service.js';
import { clientFor, describeError, type AdminClient } from './admin-client.js';
import type { Output } from './client-commands.js';
import { drainProgress, formatDrainEnd, formatDrainMoving, formatHost, formatHostCommand, formatHosts, type DrainProgress } from './format-hosts.js';
import { parseHostCommandArgs, parseHostsArgs } from './host-args.js';

const DRAIN_POLL_MS = 250;

function hostPath(name: string, suffix = ''): string {
  return `/v1/hosts/${encodeURIComponent(name)}${suffix}`;
}

/** `hosts [NAME]`: every host in a table, or one with its replicas. */
export async function hostsCommand(argv: string[], io: Output): Promise<number> {
  const args = parseHostsArgs(argv);
  const answer = await clientFor(args.admin).call('GET', args.name === undefined ? '/v1/hosts' : hostPath(args.name));
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  if (args.json) io.out(JSON.stringify(answer.body, null, 2));
  else if (args.name !== undefined) io.out(formatHost(answer.body as HostStatusView, Date.now()));
  else {
    const body = answer.body as { hosts: HostStatusView[]; note?: string };
    io.out(formatHosts(body.hosts, Date.now(), body.note));
  }
  return 0;
}

/** Polls the host until it holds no replica, stops draining, or `timeoutMs` passed; prints a line
 * whenever the count left changes. */
async function awaitDrain(api: AdminClient, first: HostStatusView, timeoutMs: number, io: Output, json: boolean): Promise<number> {
  const startedAtMs = Date.now();
  let host = first;
  let progress: DrainProgress = drainProgress(host);
  let printedLeft = progress.kind === 'moving' ? progress.left : -1;
  while (progress.kind === 'moving' && Date.now() - startedAtMs < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, Math.max(1, timeoutMs - (Date.now() - startedAtMs)))));
    const answer = await api.call('GET', hostPath(first.name));
    if (answer.status !== 200) {
      io.err(describeError(answer));
      return 1;
    }
    host = answer.body as HostStatusView;
    progress = drainProgress(host);
    if (progress.kind === 'moving' && progress.left !== printedLeft && !json) {
      io.out(formatDrainMoving(host.name, progress.left));
      printedLeft = progress.left;
    }
  }
  const waitedMs = Date.now() - startedAtMs;
  if (json) io.out(JSON.stringify({ host, drained: progress.kind === 'drained', waitedMs }, null, 2));
  if (progress.kind === 'drained') {
    if (!json) io.out(formatDrainEnd(host, progress, waitedMs));
    return 0;
  }
  io.err(formatDrainEnd(host, progress, waitedMs));
  return 1;
}

/** `host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]`. */
export async function hostCommand(argv: string[], io: Output): Promise<number> {
  const args = parseHostCommandArgs(argv);
  const api = clientFor(args.admin);
  const answer = await api.call('POST', hostPath(args.name, `/${args.command}`));
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  const body = answer.body as { message: string; host: HostStatusView };
  const waits = args.command === 'drain' && args.wait;
  if (args.json && !waits) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (!args.json) io.out(formatHostCommand(args.command, body));
  return waits ? awaitDrain(api, body.host, args.timeoutMs, io, args.json) : 0;
}
