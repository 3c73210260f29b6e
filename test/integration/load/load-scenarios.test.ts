// The Node load runner against a real gateway (built CLI, process replicas, loopback): smoke, steady
// and spike pass and write every chart; a service answering 500s fails smoke naming the threshold;
// bad arguments exit 2, no gateway exits 3.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { gatewayLog, service, startGateway, type Cleanups } from '../../helpers/rollout-gateway.js';
import { count, readReport, reportDir, runLoad, targetArgs } from './load-runner.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
const reports = reportDir();
afterAll(() => rmSync(reports, { recursive: true, force: true }));

const CHARTS = ['requests', 'errors', 'latency', 'replicas', 'share'];

/** Every chart is there and has its series. */
function expectAllCharts(html: string): void {
  for (const id of CHARTS) expect(count(html, `data-chart="${id}"`), id).toBe(1);
  expect(html).toContain('data-series="requests/s (sent on schedule)"');
  expect(html).toContain('data-series="failed requests/s"');
  expect(html).toContain('data-series="p95 latency (ms)"');
  expect(html).toMatch(/data-band="[0-9a-f]{8} \(version [^)]+\) ready"/);
  expect(html).toContain('data-series="active (starting + ready)"');
  expect(html).toMatch(/data-band="[0-9a-f]{8} \(version [^)]+\)"/);
}

describe('npm run load (Node runner) against a real gateway', () => {
  it('smoke: exits 0, prints every threshold as ok, and writes a report with all five charts', async () => {
    const { cli } = await startGateway(cleanups, { replicas: 2, deploy: { strategy: 'rolling' } });
    const report = join(reports, 'smoke.html');
    const run = await runLoad(['smoke', ...targetArgs(cli), '--rate', '100', '--duration', '2s', '--report', report], 30_000);

    expect(run.code, `${run.stdout}\n${run.stderr}\n${gatewayLog(cli)}`).toBe(0);
    expect(run.stdout).toContain('load smoke: PASSED');
    expect(run.stdout).toMatch(/^requests 200, failed 0 \(0%\), dropped 0,/m);
    for (const line of [/http_req_failed\s+rate<0.01\s+0 \(0%\)\s+ok/, /http_req_duration\s+p\(95\)<800\s+\S+\s+ok/, /checks\s+rate==1\s+1 \(100%\)\s+ok/]) expect(run.stdout).toMatch(line);
    expect(run.stdout).toContain(`report: ${report}`);
    const html = readReport(report);
    expect(html).toContain('data-verdict="passed"');
    expectAllCharts(html);
  }, 60_000);

  it('steady: exits 0 at a constant open-loop rate with nothing dropped', async () => {
    const { cli } = await startGateway(cleanups, { replicas: 2, deploy: { strategy: 'rolling' } });
    const report = join(reports, 'steady.html');
    const run = await runLoad(['02', ...targetArgs(cli), '--rate', '150', '--duration', '3s', '--report', report], 30_000);

    expect(run.code, `${run.stdout}\n${run.stderr}\n${gatewayLog(cli)}`).toBe(0);
    expect(run.stdout).toContain('load steady: PASSED');
    expect(run.stdout).toMatch(/^requests 450, failed 0 \(0%\), dropped 0,/m);
    expect(run.stdout).toMatch(/dropped_iterations\s+count<1\s+0\s+ok/);
    expect(run.stdout).toMatch(/http_req_duration\s+p\(99\)<1000\s+\S+\s+ok/);
    expectAllCharts(readReport(report));
  }, 60_000);

  it('spike: the autoscaler adds replicas, exits 0, marks the scaling in the report, and the service gets its document back', async () => {
    const { cli } = await startGateway(cleanups, { replicas: 2, deploy: { strategy: 'rolling' } });
    const report = join(reports, 'spike.html');
    const run = await runLoad(['spike', ...targetArgs(cli), '--rate', '40', '--spike-factor', '4', '--duration', '10s', '--report', report], 60_000);

    expect(run.code, `${run.stdout}\n${run.stderr}\n${gatewayLog(cli)}`).toBe(0);
    expect(run.stdout).toContain('load spike: PASSED');
    const growth = /replica_growth\s+max>=1\s+(\d+)\s+ok/.exec(run.stdout);
    expect(growth, run.stdout).not.toBeNull();
    expect(Number(growth?.[1])).toBeGreaterThanOrEqual(1);
    expect(run.stdout).toMatch(/after_spike_req_duration\s+p\(95\)<1000\s+\S+\s+ok/);

    const html = readReport(report);
    expectAllCharts(html);
    // On every chart: the autoscale section the run added, and the scale-up.
    expect(count(html, 'data-marker="autoscale.scaled"')).toBeGreaterThanOrEqual(CHARTS.length);
    expect(count(html, 'data-marker="load.autoscale"')).toBeGreaterThanOrEqual(CHARTS.length);
    expect(html).toContain('data-series="desired"');
    // Teardown removed the autoscale section the run added.
    await eventually(async () => expect((await service(cli)).document).not.toHaveProperty('autoscale'), { timeoutMs: 5_000 });
  }, 90_000);

  it('fails (exit 1) naming the threshold when the service answers 500 to a share of the requests', async () => {
    const { cli } = await startGateway(cleanups, { replicas: 2, deploy: { strategy: 'rolling' }, env: { DEMO_ERROR_RATE: '0.3' } });
    const report = join(reports, 'failing.html');
    const run = await runLoad(['smoke', ...targetArgs(cli), '--rate', '100', '--duration', '2s', '--report', report], 30_000);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(/^load smoke: FAILED: http_req_failed rate<0.01, checks rate==1$/m);
    expect(run.stdout).toMatch(/http_req_failed\s+rate<0.01\s+0\.\d+ \(\d+(\.\d+)?%\)\s+FAILED/);
    const html = readReport(report);
    expect(html).toContain('data-verdict="failed"');
    expect(html).toMatch(/<tr data-threshold="http_req_failed rate&lt;0.01">.*<td class="bad">FAILED<\/td><\/tr>/);
    // The failures show on the errors chart: some bucket above 0 failed/s.
    const errorsPath = /<path data-series="failed requests\/s" d="([^"]+)"/.exec(html)?.[1] ?? '';
    const ys = [...errorsPath.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(new Set(ys).size).toBeGreaterThan(1);
  }, 60_000);

  it('exits 2 naming the bad argument, before sending anything', async () => {
    const run = await runLoad(['steady', '--rate', 'lots'], 10_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("load: --rate: 'lots' is not a number from 0.1 to 20000");
    const unknown = await runLoad(['07'], 10_000);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown scenario '07'");
  }, 30_000);

  it('exits 3 when no gateway answers on the admin URL, writing no report', async () => {
    const port = await freePort();
    const report = join(reports, 'none.html');
    const run = await runLoad(['smoke', '--proxy-url', `http://127.0.0.1:${port}`, '--admin-url', `http://127.0.0.1:${port}`, '--duration', '1s', '--report', report], 20_000);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/GET http:\/\/127.0.0.1:\d+\/readyz: ECONNREFUSED/);
    expect(() => readReport(report)).toThrow('wrote no report');
  }, 30_000);
});
