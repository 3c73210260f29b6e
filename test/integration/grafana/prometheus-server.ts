// A real Prometheus for tests: Debian's /usr/bin/prometheus (installed by .ci/run, never by the
// test) on a free 127.0.0.1 port with a temporary storage folder, scraping the given targets
// every second, and typed reads of its HTTP API. Test helper; I/O (child process, HTTP, files).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** One series of a query answer: its labels and its [unix seconds, value text] samples. */
export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

export interface RunningPrometheus {
  readonly address: string;
  /** `/api/v1/query_range` from `startS` to `endS` every `stepS` seconds. */
  queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<Series[]>;
  /** `/api/v1/query` at `timeS`; a vector's samples come back as one-sample series. */
  query(expr: string, timeS: number): Promise<Series[]>;
  /** `/api/v1/label/NAME/values` of the series `match` selects between `startS` and `endS`
   * (what Grafana asks for a `label_values(match, NAME)` variable). */
  labelValues(label: string, match: string, startS: number, endS: number): Promise<string[]>;
  /** The last lines Prometheus logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  readonly status: 'success' | 'error';
  readonly error?: string;
  readonly data?: T;
}

interface QueryData {
  readonly resultType: 'matrix' | 'vector' | 'scalar' | 'string';
  readonly result: unknown;
}

/**
 * Starts Prometheus scraping `targets` (host:port) at `metricsPath` every second and returns
 * once it answers /-/ready. Throws with an "install it" message when the binary is missing: the
 * checks that need it do not skip.
 */
export async function startPrometheus(targets: readonly string[], metricsPath = '/metrics'): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: install it with 'apt-get install -y prometheus' (.ci/run installs it); this test does not skip`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'dockmaster-grafana-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: dockmaster',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const get = async (path: string): Promise<{ status: number; text: string }> => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}): ${output}`);
    const res = await request(`${address}${path}`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    return { status: res.statusCode, text: await res.body.text() };
  };

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const { status, text } = await get(`${path}?${new URLSearchParams(params).toString()}`);
    let answer: ApiAnswer<T>;
    try {
      answer = JSON.parse(text) as ApiAnswer<T>;
    } catch {
      throw new Error(`Prometheus ${path} answered HTTP ${status} with no JSON: ${text.slice(0, 300)}`);
    }
    if (answer.status !== 'success' || answer.data === undefined) throw new Error(`Prometheus ${path} answered HTTP ${status}: ${answer.error ?? text.slice(0, 300)}`);
    return answer.data;
  };

  const evaluate = async (path: string, params: Record<string, string>): Promise<Series[]> => {
    const { resultType, result } = await api<QueryData>(path, params);
    if (resultType === 'matrix') return result as Series[];
    if (resultType === 'vector') {
      return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, values: [s.value] }));
    }
    if (resultType === 'scalar') return [{ metric: {}, values: [result as [number, string]] }];
    throw new Error(`Prometheus ${path} answered a ${resultType}`);
  };

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await eventually(async () => {
      const ready = await get('/-/ready');
      if (ready.status !== 200) throw new Error(`/-/ready answered ${ready.status}`);
    }, { timeoutMs: 15_000, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address,
    queryRange: (expr, startS, endS, stepS) => evaluate('/api/v1/query_range', { query: expr, start: String(startS), end: String(endS), step: String(stepS) }),
    query: (expr, timeS) => evaluate('/api/v1/query', { query: expr, time: String(timeS) }),
    labelValues: (label, match, startS, endS) => api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(startS), end: String(endS) }),
    log: () => output,
    stop,
  };
}

/** The samples of a query answer that are numbers Grafana would draw (NaN and ±Inf are gaps). */
export function finiteValues(series: readonly Series[]): number[] {
  return series.flatMap((s) => s.values.map(([, text]) => Number(text))).filter((v) => Number.isFinite(v));
}
