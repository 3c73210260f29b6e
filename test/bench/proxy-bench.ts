// Proxy benchmark (I/O, `npm run bench`): starts a backend, the bare forwarder baseline, dockmaster
// and nginx (when installed) as child processes, loads them in alternation with the same settings,
// and prints req/s, latency and proxy CPU per request with its ratio to the baseline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench } from './bench-main.js';
import { BACKEND_BODY } from './backend-body.js';
import { atExit, installCleanup, isRunning, logTail, pollUntil, probe } from './children.js';
import { dockmasterAvailable, dockmasterEntry, startDockmaster } from './dockmaster.js';
import { runLoad, type LoadResult } from './load.js';
import { findNginx, startNginx } from './nginx.js';
import { forkListening, stopForked } from './node-child.js';
import { clockTicksPerS, ticksToUs, treeCpuTicks } from './proc-cpu.js';
import { renderTable, summarize, type RunSample } from './report.js';
import { parseSettings, USAGE, type BenchSettings, type TargetName } from './settings.js';
import type { Target } from './target.js';

const BASELINE = 'bare';
/** dockmaster's CPU per request may be at most this multiple of the bare forwarder's (issue 3). */
const TARGET_RATIO = 1.3;
const FORWARD_CHECK_TIMEOUT_MS = 10_000;

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

function gitRevision(): string {
  const run = (args: string[]): string => {
    const result = spawnSync('git', args, { cwd: repoRoot(), encoding: 'utf8', timeout: 5000 });
    return result.status === 0 ? result.stdout.trim() : '';
  };
  const head = run(['rev-parse', '--short', 'HEAD']);
  if (head === '') return 'unknown';
  return run(['status', '--porcelain']) === '' ? head : `${head} + uncommitted changes`;
}

async function startTarget(name: TargetName, backendPort: number, workDir: string, notes: string[]): Promise<Target | undefined> {
  switch (name) {
    case 'bare': {
      const { child, port } = await forkListening('./bare-forwarder.js', [`http://127.0.0.1:${backendPort}`]);
      return {
        name,
        description: 'node:http + undici Pool with keep-alive, streaming, no features (the baseline)',
        url: `http://127.0.0.1:${port}/`,
        child,
        logPath: undefined,
        stop: () => stopForked(child),
      };
    }
    case 'dockmaster': {
      if (!dockmasterAvailable()) {
        notes.push(`dockmaster skipped: ${dockmasterEntry()} does not exist (build it with npm run build)`);
        return undefined;
      }
      return startDockmaster(backendPort, workDir);
    }
    case 'nginx': {
      const binary = findNginx();
      if (binary === undefined) {
        notes.push('nginx skipped: not installed (apt-get install -y nginx to add it as a reference)');
        return undefined;
      }
      return startNginx(binary, backendPort, workDir);
    }
  }
}

/** Fails unless the target answers the backend's exact body through itself. */
async function checkForwarding(target: Target): Promise<void> {
  let last = 'no answer';
  try {
    await pollUntil(`${target.name} forwards to the backend`, async () => {
      if (!isRunning(target.child)) throw new Error(`${target.name} exited (code ${target.child.exitCode})`);
      const answer = await probe(target.url);
      if (answer === undefined) return false;
      last = `status ${answer.status}, ${answer.body.length} bytes`;
      return answer.status === 200 && answer.body === BACKEND_BODY;
    }, FORWARD_CHECK_TIMEOUT_MS);
  } catch (err) {
    const log = target.logPath === undefined ? '' : `\n  log ${target.logPath}:\n${logTail(target.logPath)}`;
    throw new Error(`${(err as Error).message} (last: ${last})${log}`);
  }
}

interface Measured {
  warmup: LoadResult | undefined;
  load: LoadResult;
  cpuUs: number;
}

async function measure(target: Target, settings: BenchSettings): Promise<Measured> {
  const pid = target.child.pid;
  if (pid === undefined || !isRunning(target.child)) throw new Error(`${target.name} is not running`);
  const loadSettings = { connections: settings.connections, durationS: settings.durationS };
  const warmup = settings.warmupS > 0
    ? await runLoad(target.url, { ...loadSettings, durationS: settings.warmupS })
    : undefined;
  const before = treeCpuTicks(pid);
  const load = await runLoad(target.url, loadSettings);
  const after = treeCpuTicks(pid);
  return { warmup, load, cpuUs: ticksToUs(after - before) };
}

function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (totalmem() / 2 ** 30).toFixed(1);
  return `${cores.length} cores (${model}), ${memGiB} GiB, Linux ${release()}, node ${process.version}`;
}

async function main(settings: Exclude<ReturnType<typeof parseSettings>, 'help'>): Promise<number> {
  const perRunS = settings.warmupS + settings.durationS + 35;
  const cancelDeadline = installCleanup((120 + settings.targets.length * 60 + settings.rounds * settings.targets.length * perRunS) * 1000);
  const workDir = mkdtempSync(join(tmpdir(), 'dockmaster-bench-'));
  let keepWorkDir = false;
  atExit(() => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const failures: string[] = [];
  const notes: string[] = [];
  const targets: Target[] = [];

  const backend = await forkListening('./backend.js', []);
  const direct = await probe(`http://127.0.0.1:${backend.port}/`);
  if (direct?.body !== BACKEND_BODY) throw new Error('the backend does not answer its own body');

  for (const name of settings.targets) {
    progress(`starting ${name} ...`);
    let target: Target | undefined;
    try {
      target = await startTarget(name, backend.port, workDir, notes);
      if (target === undefined) continue;
      await checkForwarding(target);
      targets.push(target);
    } catch (err) {
      failures.push(`${name} would not start: ${(err as Error).message}`);
      if (target !== undefined) await target.stop();
    }
  }

  const samples: RunSample[] = [];
  if (targets.some((target) => target.name === BASELINE)) {
    const dead = new Set<string>();
    for (let round = 1; round <= settings.rounds; round += 1) {
      // Rotate the order each round so that no target always runs first (or right after another).
      const offset = (round - 1) % targets.length;
      for (const target of [...targets.slice(offset), ...targets.slice(0, offset)]) {
        if (dead.has(target.name)) continue;
        try {
          const { warmup, load, cpuUs } = await measure(target, settings);
          const cpuUsPerRequest = load.requests > 0 ? cpuUs / load.requests : Number.NaN;
          samples.push({ round, target: target.name, load, cpuUsPerRequest });
          progress(`round ${round}/${settings.rounds}  ${target.name.padEnd(10)} ${load.requestsPerS.toFixed(0).padStart(7)} req/s`
            + `  p50 ${load.p50Ms.toFixed(2)} ms  p99 ${load.p99Ms.toFixed(2)} ms  ${cpuUsPerRequest.toFixed(1)} CPU µs/req`);
          for (const [phase, result] of [['warm-up', warmup], ['measured run', load]] as const) {
            if (result === undefined || (result.errors === 0 && result.non2xx === 0 && result.requests > 0)) continue;
            failures.push(`${target.name} round ${round} ${phase}: ${result.requests} responses, `
              + `${result.non2xx} non-2xx, ${result.errors} connection errors or timeouts`);
          }
        } catch (err) {
          dead.add(target.name);
          const log = target.logPath === undefined ? '' : `\n  log ${target.logPath}:\n${logTail(target.logPath)}`;
          failures.push(`${target.name} round ${round}: ${(err as Error).message}${log}`);
        }
      }
    }
  } else {
    failures.push('no baseline: the bare forwarder did not start, so nothing was measured');
  }

  progress('stopping targets ...');
  for (const target of targets) {
    const note = await target.stop();
    if (note !== undefined) notes.push(`${target.name} on stop: ${note}`);
  }
  await stopForked(backend.child);

  const summaries = summarize(samples, targets.map((target) => target.name), BASELINE);
  const out: string[] = [
    '## dockmaster proxy benchmark',
    '',
    `machine: ${describeMachine()}`,
    `commit: ${gitRevision()}`,
    `load: autocannon in the harness process, ${settings.connections} keep-alive connections, no pipelining, `
      + `${settings.durationS} s measured after a ${settings.warmupS} s warm-up, ${settings.rounds} round${settings.rounds === 1 ? '' : 's'}, targets in rotating order`,
    `backend: node:http, ${BACKEND_BODY.length}-byte body; everything on 127.0.0.1 (load generator, proxy and backend share the cores)`,
    `CPU µs/req: utime+stime of the proxy's process tree from /proc/<pid>/stat (tick ${1000 / clockTicksPerS()} ms) / responses; `
      + `medians over rounds; ratio = median of per-round ratios to ${BASELINE}`,
    '',
    ...targets.map((target) => `- ${target.name}: ${target.description}`),
    '',
    renderTable(summaries, BASELINE),
    '',
    ...summaries.map((s) => `${s.target} CPU µs/req by round: ${s.cpuUsPerRequestByRound.map((v) => v.toFixed(1)).join(', ')}`),
    '',
  ];
  const dockmaster = summaries.find((s) => s.target === 'dockmaster');
  if (dockmaster?.cpuRatio !== undefined) {
    const met = dockmaster.cpuRatio <= TARGET_RATIO;
    out.push(`target: dockmaster CPU per request ≤ ${TARGET_RATIO}x the bare forwarder's: `
      + `${dockmaster.cpuRatio.toFixed(2)}x, ${met ? 'MET' : 'NOT MET'}`);
  } else {
    out.push(`target: dockmaster CPU per request ≤ ${TARGET_RATIO}x the bare forwarder's: not checked (dockmaster not measured)`);
  }
  for (const note of notes) out.push(`note: ${note}`);
  for (const failure of failures) out.push(`FAILED: ${failure}`);
  process.stdout.write(`${out.join('\n')}\n`);

  cancelDeadline();
  if (failures.length > 0) {
    keepWorkDir = true;
    process.stderr.write(`bench: logs kept in ${workDir}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

runBench('bench', USAGE, parseSettings, main);
