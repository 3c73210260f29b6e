// The hosts admin API (GET /v1/hosts, GET /v1/hosts/:name, POST /v1/hosts/:name/cordon|uncordon|drain)
// on a real 127.0.0.1 listener with a fake HostsAdmin: answers, auth, 404, 405, 409, and what a
// gateway without hosts says. I/O: sockets on loopback.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin } from '../../../src/admin/admin-server.js';
import type { AdminService } from '../../../src/admin/admin-service.js';
import { NO_HOSTS_NOTE } from '../../../src/admin/hosts-api.js';
import { FakeHosts, NODE_A, NODE_B } from '../../unit/cli/host-views.js';
import { capturedLogger, fakeService, send } from './admin-fixtures.js';

const TOKEN = 'correct-horse-battery-staple-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const apps: FastifyInstance[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()?.close();
});

async function start(options: { hosts?: FakeHosts | undefined; token?: string } = {}) {
  const base = fakeService();
  const service: AdminService = { ...base, isReady: () => true, hosts: options.hosts };
  const log = capturedLogger();
  const app = createAdminServer(service, { token: options.token, logger: log.logger });
  apps.push(app);
  const { port } = await listenAdmin(app, '127.0.0.1', 0);
  return { port, log };
}

describe('hosts API with hosts configured', () => {
  it('GET /v1/hosts lists every host view', async () => {
    const hosts = new FakeHosts();
    const { port } = await start({ hosts });
    const answer = await send(port, 'GET', '/v1/hosts');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.json).toEqual({ hosts: JSON.parse(JSON.stringify(hosts.list())) });
    expect((answer.json['hosts'] as unknown[]).length).toBe(3);
  });

  it('GET /v1/hosts/:name answers one host; an unknown one is 404 DM_ERR_HOST_UNKNOWN; an empty name is a plain 404', async () => {
    const { port } = await start({ hosts: new FakeHosts() });
    const one = await send(port, 'GET', '/v1/hosts/node-b');
    expect(one.status).toBe(200);
    expect(one.json).toEqual(JSON.parse(JSON.stringify(NODE_B)));
    const unknown = await send(port, 'GET', '/v1/hosts/node-z');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: { code: 'DM_ERR_HOST_UNKNOWN', message: "no host named 'node-z'" } });
    const empty = await send(port, 'GET', '/v1/hosts/');
    expect(empty.status).toBe(404);
    expect(empty.json.error.code).toBe('DM_ERR_ADMIN_NOT_FOUND');
  });

  it('cordon, cordon again, uncordon: each answers {message, host} and the change shows in GET', async () => {
    const hosts = new FakeHosts();
    const { port, log } = await start({ hosts });
    const cordoned = await send(port, 'POST', '/v1/hosts/node-a/cordon');
    expect(cordoned.status).toBe(200);
    expect(cordoned.json).toMatchObject({ message: 'cordoned', host: { name: 'node-a', cordoned: true, draining: false } });
    expect((await send(port, 'GET', '/v1/hosts/node-a')).json).toMatchObject({ cordoned: true });
    expect((await send(port, 'POST', '/v1/hosts/node-a/cordon')).json).toMatchObject({ message: 'already cordoned' });
    const uncordoned = await send(port, 'POST', '/v1/hosts/node-a/uncordon');
    expect(uncordoned.status).toBe(200);
    expect(uncordoned.json).toMatchObject({ message: 'uncordoned', host: { cordoned: false } });
    expect(hosts.commands).toEqual([
      { name: 'node-a', command: 'cordon' },
      { name: 'node-a', command: 'cordon' },
      { name: 'node-a', command: 'uncordon' },
    ]);
    // Every mutation leaves an audit line.
    const audits = log.lines.filter((l) => l['msg'] === 'admin change');
    expect(audits.map((l) => l['path'])).toEqual(['/v1/hosts/node-a/cordon', '/v1/hosts/node-a/cordon', '/v1/hosts/node-a/uncordon']);
  });

  it('drain answers once the host drains, with the replicas still to move', async () => {
    const { port } = await start({ hosts: new FakeHosts() });
    const answer = await send(port, 'POST', '/v1/hosts/node-a/drain');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ message: 'draining', host: { name: 'node-a', cordoned: true, draining: true } });
    expect((answer.json['host'] as { replicas: unknown[] }).replicas).toHaveLength(NODE_A.replicas.length);
  });

  it('a command on an unknown host is 404 and never reaches HostsAdmin', async () => {
    const hosts = new FakeHosts();
    const { port } = await start({ hosts });
    for (const command of ['cordon', 'uncordon', 'drain']) {
      const answer = await send(port, 'POST', `/v1/hosts/nope/${command}`);
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ error: { code: 'DM_ERR_HOST_UNKNOWN', message: "no host named 'nope'" } });
    }
    expect(hosts.commands).toEqual([]);
  });

  it('a command HostsAdmin refuses answers 409 with its code and reason', async () => {
    const hosts = new FakeHosts();
    hosts.failWith = { code: 'DM_ERR_HOST_NOT_ALLOWED', message: 'node-b is lost: its replicas are already being replaced' };
    const { port } = await start({ hosts });
    const answer = await send(port, 'POST', '/v1/hosts/node-b/drain');
    expect(answer.status).toBe(409);
    expect(answer.json).toEqual({ error: { code: 'DM_ERR_HOST_NOT_ALLOWED', message: 'node-b is lost: its replicas are already being replaced' } });
  });

  it('answers 405 with Allow for a wrong method on a hosts path, and 404 for an unknown command', async () => {
    const { port } = await start({ hosts: new FakeHosts() });
    const cases: Array<{ method: string; path: string; allow: string }> = [
      { method: 'GET', path: '/v1/hosts/node-a/cordon', allow: 'POST' },
      { method: 'DELETE', path: '/v1/hosts/node-a', allow: 'GET, HEAD' },
      { method: 'PUT', path: '/v1/hosts', allow: 'GET, HEAD' },
      { method: 'POST', path: '/v1/hosts', allow: 'GET, HEAD' },
      { method: 'PUT', path: '/v1/hosts/node-a/drain', allow: 'POST' },
    ];
    for (const c of cases) {
      const answer = await send(port, c.method, c.path);
      expect(answer.status, `${c.method} ${c.path}`).toBe(405);
      expect(answer.headers['allow']).toBe(c.allow);
      expect(answer.json.error.code).toBe('DM_ERR_ADMIN_METHOD_NOT_ALLOWED');
    }
    const unknown = await send(port, 'POST', '/v1/hosts/node-a/reboot');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('DM_ERR_ADMIN_NOT_FOUND');
  });
});

describe('hosts API without hosts (one machine)', () => {
  it('GET /v1/hosts answers an empty list with a note', async () => {
    const { port } = await start();
    const answer = await send(port, 'GET', '/v1/hosts');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ hosts: [], note: NO_HOSTS_NOTE });
  });

  it('GET /v1/hosts/:name is 404 DM_ERR_HOST_UNKNOWN, saying there are no hosts', async () => {
    const { port } = await start();
    const answer = await send(port, 'GET', '/v1/hosts/local');
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ error: { code: 'DM_ERR_HOST_UNKNOWN', message: `no host named 'local': ${NO_HOSTS_NOTE}` } });
  });

  it('every host command is 409 DM_ERR_HOSTS_NOT_CONFIGURED', async () => {
    const { port } = await start();
    for (const command of ['cordon', 'uncordon', 'drain']) {
      const answer = await send(port, 'POST', `/v1/hosts/local/${command}`);
      expect(answer.status).toBe(409);
      expect(answer.json.error.code).toBe('DM_ERR_HOSTS_NOT_CONFIGURED');
      expect(answer.json.error.message).toBe(
        `cannot ${command} 'local': ${NO_HOSTS_NOTE}; list hosts under 'hosts:' to place replicas on several Docker hosts`,
      );
    }
  });
});

describe('hosts API auth', () => {
  it('with a token, every hosts route needs it and a refused command changes nothing', async () => {
    const hosts = new FakeHosts();
    const { port } = await start({ hosts, token: TOKEN });
    for (const [method, path] of [
      ['GET', '/v1/hosts'],
      ['GET', '/v1/hosts/node-a'],
      ['POST', '/v1/hosts/node-a/cordon'],
      ['POST', '/v1/hosts/node-a/drain'],
      ['GET', '/v1/hosts/node-a/cordon'],
    ] as const) {
      const answer = await send(port, method, path, { headers: { authorization: 'Bearer wrong' } });
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.json.error.code).toBe('DM_ERR_ADMIN_UNAUTHORIZED');
    }
    expect(hosts.commands).toEqual([]);
    expect(hosts.list().find((h) => h.name === 'node-a')?.cordoned).toBe(false);
    const allowed = await send(port, 'POST', '/v1/hosts/node-a/cordon', { headers: AUTH });
    expect(allowed.status).toBe(200);
    expect(hosts.commands).toEqual([{ name: 'node-a', command: 'cordon' }]);
  });

  it('without a token, a request with a non-loopback Host is refused (DNS rebinding)', async () => {
    const hosts = new FakeHosts();
    const { port } = await start({ hosts });
    const answer = await send(port, 'POST', '/v1/hosts/node-a/drain', { headers: { host: 'evil.example:9090' } });
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('DM_ERR_ADMIN_HOST_FORBIDDEN');
    expect(hosts.commands).toEqual([]);
  });
});
