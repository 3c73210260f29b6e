// Passive health through the built CLI (`dockmaster serve` with a dockmaster.yaml): a static
// upstream that refuses connections is ejected, the table rebuilt at once, while clients see no
// error, and the ejection shows in /metrics and GET /v1/events; without settings (no file, or
// only comments) the defaults apply. Needs `npm run build` (or DOCKMASTER_TEST_CLI). 127.0.0.1 only.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { rmSync } from 'node:fs';
import { startUpstream, closedPortOrigin, type RunningUpstream } from '../../helpers/upstream.js';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { sendSequential } from './guarded-proxy.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const GATEWAY_YAML = `kind: Gateway
passiveHealth:
  consecutiveFailures: 3
  baseEjectionMs: 20000   # long enough to still be ejected while the test looks
  maxEjectionPercent: 50
`;

function routeYaml(name: string, origins: string[]): string {
  return `kind: Route\nname: ${name}\nmatch:\n  pathPrefix: /\nupstreams:\n${origins.map((o) => `  - url: ${o}\n`).join('')}`;
}

async function upstream(body: string): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => res.end(body));
  cleanups.push(() => u.close());
  return u;
}

async function serve(files: Record<string, string>): Promise<RunningCli> {
  const dir = configDir(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await startCli(dir);
  cleanups.push(() => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  await eventually(async () => expect((await request(`${cli.adminUrl}/readyz`)).statusCode).toBe(200), { timeoutMs: 15_000 });
  return cli;
}

async function metrics(cli: RunningCli): Promise<string> {
  return (await request(`${cli.adminUrl}/metrics`)).body.text();
}

/** Value of one sample line of the Prometheus text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return 0;
}

describe('passive health through dockmaster serve', () => {
  it('ejects a static upstream that refuses connections while clients see zero errors', async () => {
    const good = await upstream('good');
    const dead = await closedPortOrigin();
    const cli = await serve({ 'dockmaster.yaml': GATEWAY_YAML, 'routes/main.yaml': routeYaml('main', [good.origin, dead]) });

    const results = await sendSequential(`${cli.proxyUrl}/`, 30);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.every((r) => r.body === 'good')).toBe(true);

    await eventually(async () => {
      const text = await metrics(cli);
      expect(sample(text, 'dockmaster_endpoint_ejections_total', { pool: 'route:main' })).toBeGreaterThan(0);
      expect(sample(text, 'dockmaster_endpoints_ejected', { pool: 'route:main' })).toBe(1);
      expect(sample(text, 'dockmaster_endpoint_healthy', { endpoint: dead })).toBe(0);
      expect(sample(text, 'dockmaster_endpoint_healthy', { endpoint: good.origin })).toBe(1);
    }, { timeoutMs: 5_000 });

    const events = (await (await request(`${cli.adminUrl}/v1/events`)).body.json()) as { events: Array<{ type: string; data?: Record<string, unknown> }> };
    const ejected = events.events.filter((e) => e.type === 'endpoint.ejected');
    expect(ejected).toHaveLength(1);
    expect(ejected[0]?.data).toMatchObject({ endpoint: dead, pool: 'route:main', ejections: 1 });

    // Ejected: no more attempts on it, so no more refused connections to count. The table was
    // rebuilt at once on the third, so the requests sent one by one never tried it a fourth time.
    const refusedBefore = sample(await metrics(cli), 'dockmaster_proxy_upstream_errors_total', { route: 'main' });
    expect(refusedBefore).toBe(3);
    const more = await sendSequential(`${cli.proxyUrl}/`, 20);
    expect(more.every((r) => r.status === 200)).toBe(true);
    expect(sample(await metrics(cli), 'dockmaster_proxy_upstream_errors_total', { route: 'main' })).toBe(refusedBefore);
  });

  const noSettings: Array<{ name: string; files: Record<string, string> }> = [
    { name: 'without dockmaster.yaml', files: {} },
    { name: 'with a dockmaster.yaml holding only comments', files: { 'dockmaster.yaml': '# gateway settings go here\n# passiveHealth:\n#   consecutiveFailures: 3\n' } },
  ];
  for (const c of noSettings) {
    it(`${c.name} the defaults apply: 5 consecutive failures eject`, async () => {
      const good = await upstream('good');
      const dead = await closedPortOrigin();
      const cli = await serve({ ...c.files, 'routes/main.yaml': routeYaml('main', [good.origin, dead]) });
      // One request at a time: the 4th failed attempt on the dead one does not eject, the 5th does.
      for (let i = 0; i < 20; i++) {
        const [result] = await sendSequential(`${cli.proxyUrl}/`, 1);
        expect(result?.status).toBe(200);
        const text = await metrics(cli);
        const failures = sample(text, 'dockmaster_proxy_upstream_errors_total', { route: 'main' });
        const ejections = sample(text, 'dockmaster_endpoint_ejections_total', { pool: 'route:main' });
        expect(ejections).toBe(failures >= 5 ? 1 : 0);
        if (failures >= 5) return;
      }
      throw new Error('the dead upstream was never tried 5 times');
    });
  }

  it('refuses to start with an invalid dockmaster.yaml, naming the file and the field', async () => {
    const dir = configDir({ 'dockmaster.yaml': 'kind: Gateway\npassiveHealth:\n  baseEjectionMs: 5000\n  maxEjectionMs: 1000\n' });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cli = await startCli(dir);
    cleanups.push(() => {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('dockmaster.yaml');
    expect(cli.stderr()).toContain('/passiveHealth/maxEjectionMs');
  });
});
