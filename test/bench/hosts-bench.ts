// Host-loss benchmark (I/O, `npm run bench:hosts`): three private Docker daemons on this machine
// (zones a/b/c), the built gateway over them with 6 demo replicas spread 2/2/2, an open-loop GET
// load, and one host killed per round (daemon, shims and containers at once). Measures the time
// from the kill to the host declared lost and to every replacement serving elsewhere, and the
// requests failed meanwhile against those in flight on the dead host; then the placement-at-scale
// table (CPU only). Target (issue 9): replacements serving within hostDownAfterMs + 2 s; failed
// requests only those in flight on the dead host.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { startDockerHosts, type DockerHosts } from '../helpers/docker-hosts.js';
import { privateDockerdUnavailable } from '../helpers/dockerd.js';
import { runBench } from './bench-main.js';
import { atExit, installCleanup, logTail } from './children.js';
import { dockmasterAvailable, dockmasterEntry } from './dockmaster.js';
import { DEMO_IMAGE, type ConfigHost, type DockerServiceOptions } from './hosts-config.js';
import { REPLICAS, SERVICE, replicasByHost, startHostsGateway, type HostsGateway } from './hosts-gateway.js';
import { startHostsLoad, wallMs } from './hosts-load.js';
import { firstAnswers, hostsVerdicts, inFlightAt, renderHostsTable, TARGET_SLACK_MS, windowCounts, type LostReplica, type RoundResult } from './hosts-report.js';
import { HOSTS_USAGE, parseHostsSettings, type HostsBenchSettings } from './hosts-settings.js';
import { measurePlacement, PLACEMENT_CASES, renderPlacementTable } from './placement-scale.js';

const ZONES: Readonly<Record<string, string>> = { 'node-a': 'a', 'node-b': 'b', 'node-c': 'c' };
const HOST_NAMES = Object.keys(ZONES);
const CAPACITY = { cpus: 2, memoryMb: 1_024 } as const;
const RETRIES = 2;
/** Unmeasured load before each kill (connections open, every replica answered). */
const WARMUP_MS = 2_000;
/** Load kept up after the last replacement answered. */
const AFTER_MS = 1_000;
const POLL_MS = 20;
const RESTORE_TIMEOUT_MS = 60_000;

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function gitRevision(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const run = (args: string[]): string => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8', timeout: 5000 });
    return result.status === 0 ? result.stdout.trim() : '';
  };
  const head = run(['rev-parse', '--short', 'HEAD']);
  if (head === '') return 'unknown';
  return run(['status', '--porcelain']) === '' ? head : `${head} + uncommitted changes`;
}

function describeMachine(): string {
  const cores = cpus();
  return `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, node ${process.version}`;
}

const loadAverage = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

function serviceOptions(settings: HostsBenchSettings): DockerServiceOptions {
  return {
    name: SERVICE,
    replicas: REPLICAS,
    cpus: 0.25,
    memoryMb: 64,
    env: { DEMO_LATENCY_MS: String(settings.latencyMs) },
    healthIntervalMs: settings.healthIntervalMs,
    unhealthyThreshold: 3,
    stopGraceMs: 2_000,
    drainTimeoutMs: 5_000,
  };
}

/** Polls `check` every POLL_MS until it returns a value, failing after timeoutMs with `what`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${(last as Error).message})`}`);
    await sleep(POLL_MS);
  }
}

function portOf(address: string | undefined): number | undefined {
  const port = address === undefined ? NaN : Number(new URL(address).port);
  return Number.isInteger(port) ? port : undefined;
}

/** 6 ready replicas, 2 on each host: a fair start for a round. */
async function waitSpread(gw: HostsGateway): Promise<void> {
  await until(
    'six ready replicas spread 2/2/2',
    async () => {
      const [view, hosts] = await Promise.all([gw.service(), gw.hosts()]);
      const ready = (view.replicas ?? []).filter((r) => r.state === 'ready').length;
      const counts = Object.values(replicasByHost(hosts));
      return ready === REPLICAS && (view.replicas ?? []).length === REPLICAS && counts.every((c) => c === 2) ? true : undefined;
    },
    RESTORE_TIMEOUT_MS,
  );
}

/** The killed host back (its old containers fenced), then every replica placed afresh: 2/2/2. */
async function restore(gw: HostsGateway, hosts: DockerHosts, victim: string): Promise<void> {
  const seq = await gw.lastSeq();
  await hosts.restart(victim);
  await until(`${victim} back`, async () => ((await gw.events(seq)).some((e) => e.type === 'host.back' && e.data?.['host'] === victim) ? true : undefined), RESTORE_TIMEOUT_MS);
  await gw.scale(0);
  await until('no replica left', async () => (((await gw.service()).replicas ?? []).length === 0 ? true : undefined), RESTORE_TIMEOUT_MS);
  await gw.scale(REPLICAS);
  await waitSpread(gw);
}

async function measureRound(gw: HostsGateway, hosts: DockerHosts, settings: HostsBenchSettings, round: number, victim: string): Promise<{ result: RoundResult; notes: string[] }> {
  const targetMs = settings.hostDownAfterMs + TARGET_SLACK_MS;
  await waitSpread(gw);
  const before = await gw.service();
  const lostIds = (before.replicas ?? []).filter((r) => r.host === victim);
  const oldPorts = new Map(lostIds.map((r) => [r.id, portOf(r.address)]));
  const seq = await gw.lastSeq();
  const counters = async (): Promise<[number, number, number, number]> =>
    Promise.all([
      gw.counter('dockmaster_proxy_upstream_errors_total', 'kind="reset"'),
      gw.counter('dockmaster_proxy_upstream_errors_total', 'kind="refused"'),
      gw.counter('dockmaster_proxy_retries_total'),
      gw.counter('dockmaster_proxy_retry_budget_exhausted_total'),
    ]);
  const [reset0, refused0, retries0, budget0] = await counters();
  const waitMs = 3 * targetMs + 20_000;
  const maxMs = WARMUP_MS + waitMs + 10_000;
  const load = startHostsLoad(`${gw.proxyUrl}/`, { connections: settings.connections, rate: settings.rate, maxMs, maxRequests: Math.ceil((settings.rate * maxMs) / 1000) });
  const notes: string[] = [];
  try {
    await sleep(WARMUP_MS);
    // The admin view, polled from before the kill: when each lost replica id is ready elsewhere.
    const readyAt = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling && readyAt.size < lostIds.length) {
        const view = await gw.service().catch(() => undefined);
        const now = wallMs();
        for (const r of view?.replicas ?? []) {
          if (oldPorts.has(r.id) && r.state === 'ready' && r.host !== undefined && r.host !== victim && !readyAt.has(r.id)) readyAt.set(r.id, now);
        }
        await sleep(POLL_MS);
      }
    })();
    const killedAtMs = await hosts.kill(victim);
    const goneAfterMs = wallMs() - killedAtMs;
    const lost: LostReplica[] = lostIds.map((r) => ({ id: r.id, oldPort: oldPorts.get(r.id), readyAtMs: undefined }));
    const allAnswered = (): boolean => firstAnswers(load.samples(), lost, killedAtMs).size === lost.length;
    const deadline = Date.now() + waitMs;
    while ((readyAt.size < lostIds.length || !allAnswered()) && Date.now() < deadline) await sleep(POLL_MS);
    polling = false;
    await poller;
    await sleep(AFTER_MS);
    await load.stop();
    const [reset1, refused1, retries1, budget1] = await counters();
    const events = await gw.events(seq);
    const lostEvent = events.find((e) => e.type === 'host.lost' && e.data?.['host'] === victim);
    const samples = load.samples();
    const answered = firstAnswers(samples, lost, killedAtMs);
    const lastReadyMs = readyAt.size === lostIds.length ? Math.max(...readyAt.values()) : NaN;
    const lastAnswerMs = answered.size === lostIds.length ? Math.max(...answered.values()) : NaN;
    if (readyAt.size < lostIds.length) notes.push(`round ${round}: only ${readyAt.size} of ${lostIds.length} replacements ready within ${waitMs} ms`);
    if (answered.size < lostIds.length) notes.push(`round ${round}: only ${answered.size} of ${lostIds.length} replacements answered within ${waitMs} ms`);
    const endMs = Math.max(Number.isFinite(lastReadyMs) ? lastReadyMs : killedAtMs + waitMs, Number.isFinite(lastAnswerMs) ? lastAnswerMs : killedAtMs + waitMs);
    const during = windowCounts(samples, killedAtMs, endMs);
    const total = windowCounts(samples, -Infinity, Infinity);
    const failures = samples.filter((s) => s.status !== 200);
    if (failures.length > 0) {
      notes.push(`round ${round}: failed requests sent at ${failures.slice(0, 5).map((f) => `${(f.atMs - killedAtMs).toFixed(0)} ms (${f.status || f.error})`).join(', ')} from the kill`);
    }
    if (load.skipped() > 0) notes.push(`round ${round}: the load generator skipped ${load.skipped()} sends (its queue was full)`);
    notes.push(
      `round ${round}: ${victim} held ${lostIds.map((r) => r.id).join(', ')}; its processes were gone ${goneAfterMs.toFixed(0)} ms after the signals; ` +
        `moved to ${events.filter((e) => e.type === 'host.moved').map((e) => `${String(e.data?.['replica'])} -> ${String(e.data?.['to'])}`).join(', ')}; ` +
        `client requests in flight at the kill (all hosts): ${inFlightAt(samples, killedAtMs)}`,
    );
    return {
      result: {
        round,
        host: victim,
        lost: lostIds.length,
        targetMs,
        killToLostMs: lostEvent === undefined ? NaN : lostEvent.atMs - killedAtMs,
        killToReadyMs: lastReadyMs - killedAtMs,
        killToAnsweredMs: lastAnswerMs - killedAtMs,
        requestsDuring: during.requests,
        failedDuring: during.failed,
        failedTotal: failures.length,
        requestsTotal: total.requests,
        cutInFlight: reset1 - reset0,
        refused: refused1 - refused0,
        retries: retries1 - retries0,
        budgetExhausted: budget1 - budget0,
        clientInFlightAtKill: inFlightAt(samples, killedAtMs),
        skipped: load.skipped(),
      },
      notes,
    };
  } finally {
    await load.stop();
  }
}

function placementSection(settings: HostsBenchSettings): string[] {
  progress('placement at scale ...');
  const rows = PLACEMENT_CASES.map((c) => {
    const row = measurePlacement(c, settings.placementBudgetMs);
    progress(`  ${c.hosts} hosts / ${c.replicas} replicas: median ${row.medianUs.toFixed(1)} µs`);
    return row;
  });
  return [
    '### placement at scale (placeReplica, one more replica of a 20-replica service spread by zone; CPU only)',
    '',
    renderPlacementTable(rows),
  ];
}

async function main(settings: Exclude<ReturnType<typeof parseHostsSettings>, 'help'>): Promise<number> {
  const loadAtStart = loadAverage();
  const cancelDeadline = installCleanup((300 + settings.rounds * 120) * 1000);
  const placement = placementSection(settings);
  if (settings.placementOnly) {
    process.stdout.write(`${placement.join('\n')}\n`);
    cancelDeadline();
    return 0;
  }
  if (!dockmasterAvailable()) {
    process.stderr.write(`bench:hosts: ${dockmasterEntry()} does not exist (build it with npm run build)\n`);
    return 1;
  }
  const why = await privateDockerdUnavailable();
  if (why !== undefined) {
    process.stderr.write(`bench:hosts: ${why} (it runs three private Docker daemons; --placement-only runs without them)\n`);
    return 1;
  }
  try {
    await new Dockerode().getImage(DEMO_IMAGE).inspect();
  } catch {
    process.stderr.write(`bench:hosts: the main Docker daemon has no ${DEMO_IMAGE}: build it with src/demo/build-image.sh\n`);
    return 1;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'dockmaster-hosts-bench-'));
  let keepWorkDir = false;
  atExit(() => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const results: RoundResult[] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  progress('starting three Docker daemons ...');
  const hosts = await startDockerHosts(HOST_NAMES);
  let gateway: HostsGateway | undefined;
  try {
    const configHosts: ConfigHost[] = HOST_NAMES.map((name) => ({ name, endpoint: hosts.get(name).endpoint, zone: ZONES[name] ?? name, ...CAPACITY }));
    progress(`starting dockmaster with ${REPLICAS} replicas over ${HOST_NAMES.join(', ')} ...`);
    const gw = await startHostsGateway({
      workDir,
      hosts: configHosts,
      timing: { hostCheckIntervalMs: settings.hostCheckIntervalMs, hostDownAfterMs: settings.hostDownAfterMs },
      service: serviceOptions(settings),
      retries: RETRIES,
    });
    gateway = gw;
    for (let round = 1; round <= settings.rounds; round++) {
      // Rotate: node-c, node-b, node-a, ...
      const victim = HOST_NAMES[HOST_NAMES.length - 1 - ((round - 1) % HOST_NAMES.length)] ?? 'node-c';
      try {
        const { result, notes: found } = await measureRound(gw, hosts, settings, round, victim);
        results.push(result);
        notes.push(...found);
        progress(
          `round ${round}/${settings.rounds}: killed ${victim}: lost after ${result.killToLostMs.toFixed(0)} ms, replacements ready ${result.killToReadyMs.toFixed(0)} ms, ` +
            `answering ${result.killToAnsweredMs.toFixed(0)} ms; ${result.failedDuring} of ${result.requestsDuring} failed; cut in flight ${result.cutInFlight}, refused ${result.refused}, retries ${result.retries}, refused by the retry budget ${result.budgetExhausted}`,
        );
        if (round < settings.rounds) await restore(gw, hosts, victim);
      } catch (err) {
        failures.push(`round ${round} (${victim}): ${(err as Error).message}\n  log ${gw.logPath}:\n${logTail(gw.logPath)}`);
        break;
      }
    }
  } finally {
    progress('stopping dockmaster and the daemons ...');
    const note = await gateway?.stop();
    if (note !== undefined) notes.push(`dockmaster on stop: ${note}`);
    await hosts.destroy();
  }

  const out = [
    '## dockmaster host-loss benchmark',
    '',
    `machine: ${describeMachine()}; load average at the start ${loadAtStart}, at the end ${loadAverage()}`,
    `commit: ${gitRevision()}`,
    `hosts: 3 private dockerd on this machine (zones a/b/c, capacity ${CAPACITY.cpus} cpus / ${CAPACITY.memoryMb} MB each); hostCheckIntervalMs ${settings.hostCheckIntervalMs}, hostDownAfterMs ${settings.hostDownAfterMs}`,
    `service: ${REPLICAS} replicas of ${DEMO_IMAGE} (host network, 0.25 cpus / 64 MB each, spread by zone, DEMO_LATENCY_MS ${settings.latencyMs}); health every ${settings.healthIntervalMs} ms; route retries ${RETRIES}`,
    `load: open loop, ${settings.rate} GET/s over ${settings.connections} keep-alive connections, from the harness process; everything shares the cores`,
    'kill: the daemon, its containerd shims and its containers\' processes SIGKILLed at once (a machine losing power); times are from the signals',
    'host lost: the host.lost event; ready: GET /v1/services/web polled every 20 ms shows the replica id ready on another host; first answer: the load\'s first 200 from that replica id on its new port',
    'cut in flight: proxy attempts on the dead host that failed with a reset (requests in flight there when it died); refused: attempts sent to its ports after it died, before it left the table; both retried on another replica (GET)',
    '',
    renderHostsTable(results),
    '',
    ...hostsVerdicts(results),
    '',
    ...placement,
    '',
  ];
  for (const note of notes) out.push(`note: ${note}`);
  for (const failure of failures) out.push(`FAILED: ${failure}`);
  process.stdout.write(`${out.join('\n')}\n`);
  cancelDeadline();
  if (failures.length > 0 || settings.keepLogs) {
    keepWorkDir = true;
    process.stderr.write(`bench:hosts: logs kept in ${workDir}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

runBench('bench:hosts', HOSTS_USAGE, parseHostsSettings, main);
