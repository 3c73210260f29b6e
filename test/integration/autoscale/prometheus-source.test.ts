// PrometheusSource against a real Prometheus (/usr/bin/prometheus, Debian's package; .ci/run
// installs it): Prometheus on 127.0.0.1 scrapes an in-test server of text metrics every second,
// and the source's reads must come back with the rate and gauge the server serves. Real sockets
// and a real child process; every wait polls with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { PrometheusSource, type SourceRead } from '../../../src/autoscale/prometheus-source.js';
import { createLogger } from '../../../src/observability/logger.js';
import { eventually } from '../../helpers/eventually.js';

const PROMETHEUS = '/usr/bin/prometheus';
const RATE_PER_SECOND = 50;
const IN_FLIGHT = 7;
const logger = createLogger({ level: 'silent' });

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Text metrics: a counter rising by RATE_PER_SECOND per second, a gauge, and a histogram whose p95 is 300 ms. */
function metricsText(startedAtMs: number): string {
  const requests = ((Date.now() - startedAtMs) / 1000) * RATE_PER_SECOND;
  return [
    '# TYPE test_requests_total counter',
    `test_requests_total ${requests.toFixed(3)}`,
    '# TYPE test_in_flight gauge',
    `test_in_flight ${IN_FLIGHT}`,
    // 90% of requests within 100 ms, the rest within 500 ms: the 0.95 quantile interpolates to 300 ms.
    '# TYPE test_duration_seconds histogram',
    `test_duration_seconds_bucket{le="0.1"} ${(requests * 0.9).toFixed(3)}`,
    `test_duration_seconds_bucket{le="0.5"} ${requests.toFixed(3)}`,
    `test_duration_seconds_bucket{le="+Inf"} ${requests.toFixed(3)}`,
    `test_duration_seconds_sum ${(requests * 0.12).toFixed(3)}`,
    `test_duration_seconds_count ${requests.toFixed(3)}`,
    '',
  ].join('\n');
}

const QUERIES = {
  rps: 'sum(rate(test_requests_total[5s]))',
  p95Ms: '1000 * histogram_quantile(0.95, sum by (le) (rate(test_duration_seconds_bucket[5s])))',
  concurrency: 'sum(test_in_flight)',
};

describe('PrometheusSource against a real Prometheus', () => {
  let exporter: Server | undefined;
  let prometheus: ChildProcess | undefined;
  let dataDir: string | undefined;
  let address = '';
  let output = '';

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) {
      throw new Error(`${PROMETHEUS} is missing: install it with 'apt-get install -y prometheus' (.ci/run installs it); this test does not skip`);
    }
    const startedAtMs = Date.now();
    exporter = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metricsText(startedAtMs));
    });
    await new Promise<void>((resolve) => exporter?.listen(0, '127.0.0.1', resolve));
    const exporterPort = (exporter.address() as AddressInfo).port;

    dataDir = await mkdtemp(join(tmpdir(), 'dockmaster-prometheus-'));
    const configFile = join(dataDir, 'prometheus.yml');
    await writeFile(
      configFile,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: test',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${exporterPort}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    address = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dataDir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);

    const ask = async (path: string) => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited (${prometheus?.exitCode}): ${output}`);
      const res = await request(`${address}${path}`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      return { status: res.statusCode, text: await res.body.text() };
    };
    await eventually(async () => expect((await ask('/-/ready')).status).toBe(200), { timeoutMs: 10_000, intervalMs: 100 });
    // rate() over [5s] needs two samples; wait until it has them (usually 2-3 s after start).
    await eventually(
      async () => {
        const { text } = await ask(`/api/v1/query?query=${encodeURIComponent(QUERIES.rps)}`);
        expect(text).toMatch(/"result":\[\{/);
      },
      { timeoutMs: 12_000, intervalMs: 200 },
    );
  }, 25_000);

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGKILL');
      await exited;
    }
    await new Promise<void>((resolve) => (exporter === undefined ? resolve() : exporter.close(() => resolve())));
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  const source = (queries: Record<string, string>, timeoutMs = 2_000) => new PrometheusSource({ address, timeoutMs, queries, windowMs: 60_000 }, logger);

  it('reads the rate, p95 and concurrency the scraped server serves', async () => {
    const s = source(QUERIES);
    try {
      const read = await eventually(
        async () => {
          const r = await s.read();
          if (!r.ok) throw new Error(r.error);
          expect(r.window.requestsPerSecond).toBeGreaterThan(RATE_PER_SECOND * 0.8);
          expect(r.window.requestsPerSecond).toBeLessThan(RATE_PER_SECOND * 1.2);
          return r;
        },
        { timeoutMs: 8_000, intervalMs: 250 },
      );
      expect(read.window.concurrency).toBe(IN_FLIGHT);
      expect(read.window.p95Ms).toBeCloseTo(300, 0);
      expect(read.window.windowMs).toBe(60_000);
      expect(read.window.requests).toBe(Math.round(read.window.requestsPerSecond * 60));
    } finally {
      s.close();
    }
  });

  it('reads an empty answer as 0 for rate and concurrency and unknown for p95', async () => {
    const s = source({ rps: 'sum(rate(no_such_metric_total[5s]))', p95Ms: 'histogram_quantile(0.95, rate(no_such_bucket[5s]))', concurrency: 'sum(no_such_gauge)' });
    try {
      expect(await s.read()).toEqual({ ok: true, window: { windowMs: 60_000, requests: 0, requestsPerSecond: 0, p95Ms: undefined, concurrency: 0 } });
    } finally {
      s.close();
    }
  });

  it('fails a read with a PromQL syntax error, naming the query and quoting Prometheus', async () => {
    const s = source({ rps: QUERIES.rps, concurrency: 'sum(test_in_flight' });
    try {
      const read: SourceRead = await s.read();
      expect(read.ok).toBe(false);
      if (read.ok) return;
      expect(read.error).toContain("query 'concurrency'");
      expect(read.error).toContain('HTTP 400: bad_data');
      expect(read.error).toMatch(/parse error/);
    } finally {
      s.close();
    }
  });

  it('fails a read that gets no answer within timeoutMs', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const s = new PrometheusSource({ address: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 300, queries: QUERIES, windowMs: 60_000 }, logger);
    try {
      const started = Date.now();
      expect(await s.read()).toEqual({ ok: false, error: expect.stringContaining('no answer within timeoutMs (300 ms)') as unknown });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      s.close();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  // Last: stops Prometheus.
  it('fails a read once Prometheus is stopped', async () => {
    const s = source(QUERIES);
    try {
      expect((await s.read()).ok).toBe(true);
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus?.kill('SIGTERM');
      await exited;
      const read = await s.read();
      expect(read.ok).toBe(false);
      if (!read.ok) expect(read.error).toMatch(/ECONNREFUSED|other side closed|ECONNRESET|socket/);
    } finally {
      s.close();
    }
  });
});
