import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startUpstream, type RunningUpstream } from '../../helpers/upstream.js';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function routeYaml(name: string, origin: string, prefix = '/'): string {
  return `kind: Route\nname: ${name}\nmatch:\n  pathPrefix: ${prefix}\nupstreams:\n  - url: ${origin}\n`;
}

async function upstream(body: string, delayMs = 0): Promise<RunningUpstream> {
  const u = await startUpstream((_req, res) => {
    setTimeout(() => res.end(body), delayMs);
  });
  cleanups.push(() => u.close());
  return u;
}

async function serve(dir: string, args: string[] = []): Promise<RunningCli> {
  const cli = await startCli(dir, args);
  cleanups.push(() => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await eventually(async () => expect((await request(`${cli.adminUrl}/readyz`)).statusCode).toBe(200), { timeoutMs: 15000 });
  return cli;
}

describe('dockmaster serve', () => {
  it('serves the routes of its config folder and reloads a valid change without a restart', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const dir = configDir({ 'routes/main.yaml': routeYaml('main', a.origin) });
    const cli = await serve(dir);
    expect(await (await request(`${cli.proxyUrl}/`)).body.text()).toBe('a');
    writeFileSync(join(dir, 'routes/main.yaml'), routeYaml('main', b.origin));
    await eventually(async () => expect(await (await request(`${cli.proxyUrl}/`)).body.text()).toBe('b'), { timeoutMs: 5000 });
  });

  it('rejects an invalid route file whole, naming the file and field, while the old table keeps serving', async () => {
    const a = await upstream('a');
    const dir = configDir({ 'routes/main.yaml': routeYaml('main', a.origin) });
    const cli = await serve(dir);
    writeFileSync(join(dir, 'routes/bad.yaml'), 'kind: Route\nname: bad\nmatch:\n  pathPrefix: /x\nupstreams: []\nretries: lots\n');
    await eventually(() => {
      expect(cli.stdout()).toContain('bad.yaml');
      expect(cli.stdout()).toContain('/retries');
    }, { timeoutMs: 5000 });
    for (let i = 0; i < 10; i++) expect(await (await request(`${cli.proxyUrl}/x`)).body.text()).toBe('a');
    const metrics = await (await request(`${cli.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/dockmaster_config_reloads_total\{source="file",result="failure"\} [1-9]/);
    expect(metrics).toMatch(/dockmaster_config_last_reload_success 0/);
  });

  it('refuses to start on an invalid config folder with an error naming the file', async () => {
    const dir = configDir({ 'routes/broken.yaml': 'kind: Route\nname: x\nmatch: {pathPrefix: /}\nupstreams: [{url: http://127.0.0.1:1}]\nunknownKey: 1\n' });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cli = await startCli(dir);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('broken.yaml');
    expect(cli.stderr()).toContain('unknownKey');
  });

  it('drains on SIGTERM: a slow request in flight completes, /readyz turns 503, the process exits 0', async () => {
    const slow = await upstream('slow-done', 800);
    const dir = configDir({ 'routes/main.yaml': routeYaml('main', slow.origin) });
    const cli = await serve(dir);
    const inFlight = request(`${cli.proxyUrl}/slow`);
    await eventually(() => expect(slow.seen.length).toBe(1));
    cli.child.kill('SIGTERM');
    await eventually(async () => {
      const ready = await request(`${cli.adminUrl}/readyz`).catch(() => undefined);
      // Either already 503, or the admin listener is gone because draining finished.
      expect(ready === undefined || ready.statusCode === 503).toBe(true);
    }, { timeoutMs: 3000 });
    const res = await inFlight;
    expect(res.statusCode).toBe(200);
    expect(res.headers['connection']).toBe('close');
    expect(await res.body.text()).toBe('slow-done');
    expect(await cli.exited).toBe(0);
  });

  it('exits with a usage error for a bad --listen', async () => {
    const dir = configDir({});
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cli = await startCli(dir, ['--listen', 'nonsense']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain('--listen');
  });
});
