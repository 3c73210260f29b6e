import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { configDir, startCli, CLI_PATH, type RunningCli } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { isProcessAlive } from '../../helpers/processes.js';

const DEMO_APP = resolve(import.meta.dirname, '../../../src/demo/demo-app.mjs');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});


function serviceYaml(replicas: number, extraEnv = ''): string {
  return `kind: Service
name: demo
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: ${replicas}
env: {DEMO_LATENCY_MS: "0"${extraEnv}}
health: {path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 2}
stopGraceMs: 2000
drainTimeoutMs: 3000
`;
}

const ROUTE = 'kind: Route\nname: demo\nmatch: {pathPrefix: /}\nservice: demo\n';

interface ReplicaJson {
  id: string;
  state: string;
  address?: string;
  restarts: number;
  nativeId?: string;
  revision: string;
}

async function replicas(cli: RunningCli): Promise<ReplicaJson[]> {
  const res = await request(`${cli.adminUrl}/v1/services/demo`);
  const body = (await res.body.json()) as { replicas: ReplicaJson[] };
  return body.replicas;
}

async function serveDemo(replicaCount: number): Promise<{ cli: RunningCli; dir: string }> {
  const dir = configDir({ 'routes/demo.yaml': ROUTE, 'policies/demo.yaml': serviceYaml(replicaCount) });
  const cli = await startCli(dir);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    if (cli.child.exitCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
  await eventually(async () => {
    const ready = (await replicas(cli)).filter((r) => r.state === 'ready');
    expect(ready).toHaveLength(replicaCount);
  }, { timeoutMs: 20_000 });
  return { cli, dir };
}

describe('a service of process replicas behind the proxy', () => {
  it('starts 3 replicas with their identity in the environment and spreads requests over them', async () => {
    const { cli } = await serveDemo(3);
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const res = await request(`${cli.proxyUrl}/hello`);
      expect(res.statusCode).toBe(200);
      const body = (await res.body.json()) as { replica: string; service: string; revision: string };
      expect(body.service).toBe('demo');
      seen.set(body.replica, (seen.get(body.replica) ?? 0) + 1);
    }
    expect([...seen.values()]).toEqual([20, 20, 20]);
    const listed = await replicas(cli);
    expect(new Set(listed.map((r) => r.id))).toEqual(new Set(seen.keys()));
    expect(new Set(listed.map((r) => r.revision)).size).toBe(1);
  });

  it('replaces a replica killed with SIGKILL while requests keep succeeding', async () => {
    const { cli } = await serveDemo(3);
    const before = await replicas(cli);
    const victim = before[0] as ReplicaJson;
    let failures = 0;
    let done = 0;
    let stop = false;
    const load = (async () => {
      const deadline = Date.now() + 15_000;
      while (!stop && Date.now() < deadline) {
        try {
          const res = await request(`${cli.proxyUrl}/load`);
          const text = await res.body.text();
          if (res.statusCode !== 200) {
            failures++;
            if (failures < 3) console.log('FAIL', res.statusCode, text);
          }
        } catch (e) {
          console.log('ERR', e);
          failures++;
        }
        done++;
      }
    })();
    await eventually(() => expect(done).toBeGreaterThan(50));
    process.kill(Number(victim.nativeId), 'SIGKILL');
    await eventually(async () => {
      const now = await replicas(cli);
      const replaced = now.find((r) => r.id === victim.id);
      expect(replaced?.restarts).toBe(1);
      expect(replaced?.state).toBe('ready');
      expect(replaced?.nativeId).not.toBe(victim.nativeId);
      expect(now.filter((r) => r.state === 'ready')).toHaveLength(3);
    }, { timeoutMs: 15_000 });
    const afterReplace = done;
    await eventually(() => expect(done).toBeGreaterThan(afterReplace + 50));
    stop = true;
    await load;
    if (failures > 0) console.log(cli.stdout().split('\n').filter((l) => !l.includes('"stream"')).join('\n'));
    expect(failures).toBe(0);
    const metrics = await (await request(`${cli.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/dockmaster_replica_restarts_total\{service="demo"\} 1/);
    const events = (await (await request(`${cli.adminUrl}/v1/events?service=demo`)).body.json()) as { events: Array<{ type: string }> };
    expect(events.events.map((e) => e.type)).toContain('replica.exited');
  });

  it('scales through the CLI, persisting the count in the policy file with its comments', async () => {
    const { cli, dir } = await serveDemo(2);
    const file = join(dir, 'policies/demo.yaml');
    writeFileSync(file, `# the demo service\n${readFileSync(file, 'utf8')}`);
    await eventually(async () => expect((await replicas(cli)).filter((r) => r.state === 'ready')).toHaveLength(2));
    const scaled = spawnSync(process.execPath, [CLI_PATH, 'scale', 'demo', '4', '--admin', cli.adminUrl], { encoding: 'utf8', env: { ...process.env, DOCKMASTER_TOKEN: '' } });
    expect(scaled.stderr).toBe('');
    expect(scaled.status).toBe(0);
    await eventually(async () => expect((await replicas(cli)).filter((r) => r.state === 'ready')).toHaveLength(4), { timeoutMs: 15_000 });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# the demo service');
    expect(text).toMatch(/replicas: 4/);
    const status = spawnSync(process.execPath, [CLI_PATH, 'status', 'demo', '--admin', cli.adminUrl], { encoding: 'utf8', env: { ...process.env, DOCKMASTER_TOKEN: '' } });
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('4 ready / 4 desired');
    const down = spawnSync(process.execPath, [CLI_PATH, 'scale', 'demo', '1', '--admin', cli.adminUrl], { encoding: 'utf8', env: { ...process.env, DOCKMASTER_TOKEN: '' } });
    expect(down.status).toBe(0);
    await eventually(async () => expect(await replicas(cli)).toHaveLength(1), { timeoutMs: 15_000 });
  });

  it('replaces replicas one at a time when the template changes, without failed requests', async () => {
    const { cli, dir } = await serveDemo(3);
    const oldRevision = ((await replicas(cli))[0] as ReplicaJson).revision;
    let failures = 0;
    let stop = false;
    const load = (async () => {
      const deadline = Date.now() + 30_000;
      while (!stop && Date.now() < deadline) {
        try {
          const res = await request(`${cli.proxyUrl}/roll`);
          await res.body.dump();
          if (res.statusCode !== 200) failures++;
        } catch {
          failures++;
        }
      }
    })();
    writeFileSync(join(dir, 'policies/demo.yaml'), serviceYaml(3, ', DEMO_VERSION: "2"'));
    await eventually(async () => {
      const now = await replicas(cli);
      expect(now).toHaveLength(3);
      expect(now.every((r) => r.revision !== oldRevision && r.state === 'ready')).toBe(true);
    }, { timeoutMs: 25_000 });
    stop = true;
    await load;
    expect(failures).toBe(0);
  });

  it('applies the Route and Service documents of a file with `dockmaster apply -f`, and reports a bad one with its path', async () => {
    const { cli, dir } = await serveDemo(1);
    const file = join(dir, 'apply.yaml');
    writeFileSync(
      file,
      `${serviceYaml(2).replace('name: demo', 'name: extra')}---\nkind: Route\nname: extra\nmatch: {pathPrefix: /extra}\nservice: extra\n`,
    );
    const env = { ...process.env, DOCKMASTER_TOKEN: '' };
    const applied = spawnSync(process.execPath, [CLI_PATH, 'apply', '-f', file, '--admin', cli.adminUrl], { encoding: 'utf8', env });
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain('service/extra created');
    expect(applied.stdout).toContain('route/extra created');
    await eventually(async () => {
      const res = await request(`${cli.proxyUrl}/extra/x`);
      const body = (await res.body.json()) as { service: string };
      expect(body.service).toBe('extra');
    }, { timeoutMs: 15_000 });
    expect(readFileSync(join(dir, 'policies/extra.yaml'), 'utf8')).toContain('name: extra');
    writeFileSync(file, 'kind: Route\nname: broken\nmatch: {pathPrefix: /b}\nservice: extra\nretries: many\n');
    const rejected = spawnSync(process.execPath, [CLI_PATH, 'apply', '-f', file, '--admin', cli.adminUrl], { encoding: 'utf8', env });
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toContain('/retries');
  });

  it('rejects a bad service file with its path while the running service keeps serving', async () => {
    const { cli, dir } = await serveDemo(1);
    writeFileSync(join(dir, 'policies/bad.yaml'), 'kind: Service\nname: bad\nruntime: {type: process, command: []}\nreplicas: -1\n');
    await eventually(() => {
      expect(cli.stdout()).toContain('bad.yaml');
      expect(cli.stdout()).toContain('/replicas');
    }, { timeoutMs: 5_000 });
    expect((await request(`${cli.proxyUrl}/still`)).statusCode).toBe(200);
    expect(await replicas(cli)).toHaveLength(1);
  });

  it('leaves no replica process behind when dockmaster is killed with SIGKILL', async () => {
    const { cli } = await serveDemo(2);
    const pids = (await replicas(cli)).map((r) => Number(r.nativeId));
    expect(pids.every(isProcessAlive)).toBe(true);
    cli.child.kill('SIGKILL');
    await cli.exited;
    await eventually(() => expect(pids.filter(isProcessAlive)).toEqual([]), { timeoutMs: 10_000 });
  });
});
