// `dockmaster hosts [NAME]` and `dockmaster host cordon|uncordon|drain NAME` run as real child
// processes of the built CLI against an admin API on 127.0.0.1 backed by a fake HostsAdmin (a
// drain there moves one replica per read): output, exit codes, waiting for a drain, the token.
import { spawn } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin } from '../../../src/admin/admin-server.js';
import type { AdminService } from '../../../src/admin/admin-service.js';
import { NO_HOSTS_NOTE } from '../../../src/admin/hosts-api.js';
import { assertBuilt, CLI_PATH } from '../../helpers/cli.js';
import { capturedLogger, fakeService } from '../admin/admin-fixtures.js';
import { FakeHosts, NODE_A } from '../../unit/cli/host-views.js';

const COMMAND_TIMEOUT_MS = 30_000;
const TOKEN = 'hosts-cli-token-0123456789abcdef';

beforeAll(() => assertBuilt());

const apps: FastifyInstance[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()?.close();
});

async function gateway(options: { hosts?: FakeHosts | undefined; token?: string } = {}): Promise<string> {
  const service: AdminService = { ...fakeService(), isReady: () => true, hosts: options.hosts };
  const app = createAdminServer(service, { token: options.token, logger: capturedLogger().logger });
  apps.push(app);
  const { port } = await listenAdmin(app, '127.0.0.1', 0);
  return `http://127.0.0.1:${port}`;
}

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `dockmaster ARGS` to its end (killed after COMMAND_TIMEOUT_MS). */
function dm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, DOCKMASTER_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('dockmaster hosts', () => {
  it('prints the hosts table', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['hosts', '--admin', admin]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+ADDRESS\s+STATE\s+SCHEDULING\s+CPUS\s+MEMORY MB\s+REPLICAS\s+LABELS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['node-a 127.0.0.1', 'node-b 127.0.0.1', 'node-c ::1']);
    expect(lines[1]).toMatch(/reachable \d+[smhd]\s+ready\s+1\.5\/4\s+1536\/8192\s+3\/20\s+disk=ssd,zone=a$/);
    expect(lines[2]).toMatch(/LOST \d+[smhd]\s+cordoned\s+0\/2\.5\s+0\/4096\s+0\s+zone=b$/);
    expect(lines[3]).toMatch(/unreachable \d+[smhd]\s+draining\s+0\.25\/1\s+128\/1024\s+1\s+-$/);
  });

  it('--json prints what the API answers', async () => {
    const hosts = new FakeHosts();
    const admin = await gateway({ hosts });
    const result = await dm(['hosts', '--json', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ hosts: JSON.parse(JSON.stringify(hosts.list())) });
  });

  it('NAME prints one host with its replicas', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['hosts', 'node-a', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('docker:      unix:///run/dockmaster/a.sock\n');
    expect(result.stdout).toMatch(/SERVICE\s+REPLICA\s+REVISION\napi\s+api-7f\s+f6a7b8c9d0\nweb\s+web-1a\s+a1b2c3d4e5\nweb\s+web-2b\s+a1b2c3d4e5\n$/);
  });

  it('an unknown NAME exits 1 with the API error', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['hosts', 'node-z', '--admin', admin]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("DM_ERR_HOST_UNKNOWN: no host named 'node-z'\n");
  });

  it('a gateway without hosts prints its note and exits 0', async () => {
    const admin = await gateway();
    const result = await dm(['hosts', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${NO_HOSTS_NOTE}\n`);
  });

  it('sends DOCKMASTER_TOKEN, and exits 1 with DM_ERR_ADMIN_UNAUTHORIZED without it', async () => {
    const admin = await gateway({ hosts: new FakeHosts(), token: TOKEN });
    const refused = await dm(['hosts', '--admin', admin]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^DM_ERR_ADMIN_UNAUTHORIZED: /);
    const allowed = await dm(['hosts', '--admin', admin], { DOCKMASTER_TOKEN: TOKEN });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^HOST /);
  });

  it('an admin API that does not answer exits 1 naming it', async () => {
    const admin = await gateway();
    await apps.pop()?.close();
    const result = await dm(['hosts', '--admin', admin]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`DM_ERR_RUNTIME_UNAVAILABLE: cannot reach the admin API at ${admin}`);
  });
});

describe('dockmaster host cordon|uncordon|drain', () => {
  it('cordon and uncordon print the answer and change the host', async () => {
    const hosts = new FakeHosts();
    const admin = await gateway({ hosts });
    const cordon = await dm(['host', 'cordon', 'node-a', '--admin', admin]);
    expect(cordon).toEqual({ code: 0, stdout: 'host/node-a: cordoned\n', stderr: '' });
    expect(hosts.list().find((h) => h.name === 'node-a')?.cordoned).toBe(true);
    const uncordon = await dm(['host', 'uncordon', 'node-a', '--admin', admin]);
    expect(uncordon).toEqual({ code: 0, stdout: 'host/node-a: uncordoned\n', stderr: '' });
    expect(hosts.commands).toEqual([
      { name: 'node-a', command: 'cordon' },
      { name: 'node-a', command: 'uncordon' },
    ]);
  });

  it('--json prints the answer of a command', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['host', 'cordon', 'node-b', '--json', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ message: 'already cordoned', host: { name: 'node-b', cordoned: true } });
  });

  it('drain waits until the host holds no replica, printing each step', async () => {
    const hosts = new FakeHosts();
    const admin = await gateway({ hosts });
    const result = await dm(['host', 'drain', 'node-a', '--admin', admin]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'host/node-a: draining',
        `  ${NODE_A.replicas.length} replicas to move`,
        'host/node-a: draining, 2 replicas left',
        'host/node-a: draining, 1 replica left',
        "host/node-a: drained, no replicas left (still cordoned: 'dockmaster host uncordon node-a' lets new replicas land here again)",
        '',
      ].join('\n'),
    );
    expect(hosts.list().find((h) => h.name === 'node-a')).toMatchObject({ cordoned: true, replicas: [] });
  });

  it('drain --json waits too and prints the drained host', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['host', 'drain', 'node-c', '--json', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ drained: true, host: { name: 'node-c', replicas: [] }, waitedMs: expect.any(Number) });
  });

  it('drain --no-wait answers once the drain started', async () => {
    const hosts = new FakeHosts();
    const admin = await gateway({ hosts });
    const result = await dm(['host', 'drain', 'node-a', '--no-wait', '--admin', admin]);
    expect(result).toEqual({ code: 0, stdout: 'host/node-a: draining\n  3 replicas to move\n', stderr: '' });
    // Nothing read the host since: the fake moved no replica.
    expect(hosts.list().find((h) => h.name === 'node-a')?.replicas).toHaveLength(3);
  });

  it('a drain that makes no progress exits 1 at --timeout-ms, listing what is left', async () => {
    const hosts = new FakeHosts();
    hosts.stepsPerRead = 0;
    const admin = await gateway({ hosts });
    const startedAtMs = Date.now();
    const result = await dm(['host', 'drain', 'node-a', '--timeout-ms', '700', '--admin', admin]);
    expect(result.code).toBe(1);
    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(700);
    expect(result.stdout).toBe('host/node-a: draining\n  3 replicas to move\n');
    expect(result.stderr).toMatch(/^host\/node-a: still draining after 0s, 3 replicas left: web\/web-2b, api\/api-7f, web\/web-1a\n/);
  });

  it('a host with nothing on it drains at once', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['host', 'drain', 'node-b', '--admin', admin]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      "host/node-b: drained: no replicas here\nhost/node-b: drained, no replicas left (still cordoned: 'dockmaster host uncordon node-b' lets new replicas land here again)\n",
    );
  });

  it('a refused command exits 1 with its code and reason', async () => {
    const hosts = new FakeHosts();
    hosts.failWith = { code: 'DM_ERR_HOST_NOT_ALLOWED', message: 'node-b is lost' };
    const admin = await gateway({ hosts });
    const result = await dm(['host', 'drain', 'node-b', '--admin', admin]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'DM_ERR_HOST_NOT_ALLOWED: node-b is lost\n' });
  });

  it('an unknown host exits 1 with DM_ERR_HOST_UNKNOWN', async () => {
    const admin = await gateway({ hosts: new FakeHosts() });
    const result = await dm(['host', 'cordon', 'node-z', '--admin', admin]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: "DM_ERR_HOST_UNKNOWN: no host named 'node-z'\n" });
  });

  it('a gateway without hosts refuses with DM_ERR_HOSTS_NOT_CONFIGURED (exit 1)', async () => {
    const admin = await gateway();
    const result = await dm(['host', 'drain', 'local', '--admin', admin]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^DM_ERR_HOSTS_NOT_CONFIGURED: cannot drain 'local': no hosts are listed in dockmaster.yaml/);
  });

  const usageCases: Array<{ args: string[]; stderr: string | RegExp }> = [
    { args: ['host'], stderr: 'dockmaster: DM_ERR_CLI_USAGE: host needs a command: dockmaster host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]\n' },
    { args: ['host', 'evict', 'node-a'], stderr: /^dockmaster: DM_ERR_CLI_USAGE: host: unknown command 'evict'/ },
    { args: ['host', 'cordon'], stderr: 'dockmaster: DM_ERR_CLI_USAGE: host cordon needs NAME: dockmaster host cordon NAME\n' },
    { args: ['host', 'cordon', 'a', '--no-wait'], stderr: 'dockmaster: DM_ERR_CLI_USAGE: host cordon: --no-wait and --timeout-ms apply to drain only\n' },
    { args: ['hosts', 'a', 'b'], stderr: "dockmaster: DM_ERR_CLI_USAGE: hosts: unexpected argument 'b': dockmaster hosts [NAME]\n" },
    { args: ['host', 'drain', 'a', '--force'], stderr: /^dockmaster: Unknown option '--force'/ },
  ];
  for (const c of usageCases) {
    it(`exits 2 on a usage error: dockmaster ${c.args.join(' ')}`, async () => {
      const hosts = new FakeHosts();
      const admin = await gateway({ hosts });
      const result = await dm([...c.args, '--admin', admin]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      if (typeof c.stderr === 'string') expect(result.stderr).toBe(c.stderr);
      else expect(result.stderr).toMatch(c.stderr);
      expect(hosts.commands).toEqual([]);
    });
  }

  it('--help lists the host commands', async () => {
    const result = await dm(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  hosts [NAME]  ');
    expect(result.stdout).toContain('  host cordon NAME  ');
    expect(result.stdout).toContain('  host drain NAME [--no-wait] [--timeout-ms N]\n');
  });
});
