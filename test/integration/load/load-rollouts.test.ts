// The Node load runner's rollout and canary scenarios against a real gateway (built CLI, process
// replicas, loopback), the service put back afterwards; and the rollout report in headless chromium
// without console errors (screenshot: test-artifacts/load-report.png).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gatewayLog, service, startGateway, type Cleanups } from '../../helpers/rollout-gateway.js';
import { count, readReport, reportDir, runLoad, targetArgs } from './load-runner.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
const reports = reportDir();
afterAll(() => rmSync(reports, { recursive: true, force: true }));

const CHARTS = 5;
/** The service's own deploy section: neither of the ones the scenarios apply, so its return shows. */
const OWN_DEPLOY = { strategy: 'rolling', rolling: { maxSurge: 2, maxUnavailable: 0 }, progressDeadlineMs: 60_000 };
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve(import.meta.dirname, '../../../test-artifacts/load-report.png');

let rolloutReport: string | undefined;

describe('npm run load: rollout and canary under load', () => {
  it('rollout: a rolling then a blue-green update with zero failed requests; both marked in the report; the deploy section restored', async () => {
    const { cli, firstRevision } = await startGateway(cleanups, { replicas: 2, deploy: OWN_DEPLOY });
    const report = join(reports, 'rollout.html');
    const run = await runLoad(['04-rollout', ...targetArgs(cli), '--rate', '200', '--duration', '5s', '--rollout-timeout', '30s', '--report', report], 90_000);

    expect(run.code, `${run.stdout}\n${run.stderr}\n${gatewayLog(cli)}`).toBe(0);
    expect(run.stdout).toContain('load rollout: PASSED');
    expect(run.stdout).toMatch(/http_req_failed\s+rate==0\s+0 \(0%\)\s+ok/);
    expect(run.stdout).toMatch(/rollouts_succeeded\s+count>=2\s+2\s+ok/);

    const html = readReport(report);
    rolloutReport = report;
    for (const id of ['requests', 'errors', 'latency', 'replicas', 'share']) expect(html).toContain(`data-chart="${id}"`);
    expect(count(html, 'data-marker="rollout.started"')).toBe(2 * CHARTS);
    expect(count(html, 'data-marker="rollout.succeeded"')).toBe(2 * CHARTS);
    expect(count(html, 'data-marker="load.put"')).toBe(2 * CHARTS);
    expect(html).toMatch(/<text [^>]*>\d+ demo#1 rolling start<\/text>/);
    expect(html).toMatch(/<text [^>]*>\d+ demo#2 blue-green start<\/text>/);
    // The first revision and the two the run deployed each took a share of the answers.
    expect(html).toContain(`data-band="${firstRevision.slice(0, 8)} (version 1)"`);
    expect(html.match(/data-band="[0-9a-f]{8} \(version load-[a-z0-9]+-[12]\)"/g)).toHaveLength(2);

    const after = await service(cli);
    expect(after.document).toMatchObject({ deploy: OWN_DEPLOY, version: expect.stringMatching(/^load-[a-z0-9]+-2$/) as string });
    expect(after.rollout).toMatchObject({ phase: 'Succeeded', strategy: 'blue-green' });
  }, 120_000);

  it('the rollout report renders in headless chromium without console errors', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with 'apt-get install -y chromium' (Debian's package; the load report check needs it)`);
    if (rolloutReport === undefined) throw new Error('the rollout test above wrote no report to open');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('request', (request) => {
        if (!request.url().startsWith('file://')) problems.push(`request beyond the file: ${request.url()}`);
      });
      await page.goto(`file://${rolloutReport}`, { waitUntil: 'load' });

      const charts = await page.$$eval('svg[data-chart]', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return { id: svg.getAttribute('data-chart'), width: box.width, height: box.height, paths: svg.querySelectorAll('path').length };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(['requests', 'errors', 'latency', 'replicas', 'share']);
      for (const chart of charts) {
        expect(chart.width, chart.id ?? '').toBeGreaterThan(500);
        expect(chart.height, chart.id ?? '').toBeGreaterThan(150);
        expect(chart.paths, chart.id ?? '').toBeGreaterThan(0);
      }
      expect(await page.locator('[data-verdict="passed"]').count()).toBe(1);
      mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 60_000);

  it('canary: the observed share of the new revision is within 5 points of a 20% weight, then promoted; the deploy section restored', async () => {
    const { cli } = await startGateway(cleanups, { replicas: 2, deploy: OWN_DEPLOY });
    const report = join(reports, 'canary.html');
    const run = await runLoad(['canary', ...targetArgs(cli), '--rate', '200', '--duration', '3s', '--weight', '20', '--rollout-timeout', '30s', '--report', report], 90_000);

    expect(run.code, `${run.stdout}\n${run.stderr}\n${gatewayLog(cli)}`).toBe(0);
    expect(run.stdout).toContain('load canary: PASSED');
    const share = /canary_share\s+rate>=0.15\s+([\d.]+) \(/.exec(run.stdout);
    expect(share, run.stdout).not.toBeNull();
    expect(Number(share?.[1])).toBeGreaterThanOrEqual(0.15);
    expect(Number(share?.[1])).toBeLessThanOrEqual(0.25);
    expect(run.stdout).toMatch(/rollouts_succeeded\s+count>=1\s+1\s+ok/);

    const html = readReport(report);
    for (const type of ['rollout.started', 'rollout.weights', 'rollout.paused', 'load.split', 'rollout.promote', 'rollout.succeeded']) {
      expect(count(html, `data-marker="${type}"`), type).toBeGreaterThanOrEqual(CHARTS);
    }
    // The weights the gateway set are drawn over the observed shares.
    expect(html).toMatch(/data-series="[0-9a-f]{8} \(version load-[a-z0-9]+-1\) weight"/);

    const after = await service(cli);
    expect(after.document).toMatchObject({ deploy: OWN_DEPLOY, version: expect.stringMatching(/^load-[a-z0-9]+-1$/) as string });
    expect(after.rollout).toMatchObject({ phase: 'Succeeded', strategy: 'canary' });
  }, 120_000);
});
