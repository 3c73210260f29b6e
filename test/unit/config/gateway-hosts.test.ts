// Loading `dockmaster.yaml` with hosts (src/config/gateway-config.ts, host-tls-files.ts): a full
// file becomes HostConfigs, TLS files are resolved against the config folder and must exist and be
// readable, and every problem names the file, its JSON path and its line. Temp files only, no
// sockets.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GATEWAY_FILE, loadGatewayConfig } from '../../../src/config/gateway-config.js';
import { ConfigError, type ConfigProblem } from '../../../src/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockmaster-hosts-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(text: string): Promise<readonly ConfigProblem[]> {
  await writeFile(join(dir, GATEWAY_FILE), text);
  const error: unknown = await loadGatewayConfig(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  for (const problem of problems) expect(problem.file).toBe(join(dir, GATEWAY_FILE));
  return problems;
}

const TWO_HOSTS = `kind: Gateway
hostCheckIntervalMs: 200
hostDownAfterMs: 1000
hosts:
  - name: node-a
    docker: unix:///run/dockmaster/a.sock
    address: 127.0.0.1
    capacity: {cpus: 2, memoryMb: 2048, maxReplicas: 10}
    labels: {zone: a}
  - name: node-b
    docker: tcp://127.0.0.1:2376
    tls:
      ca: certs/ca.pem
      cert: certs/b-cert.pem
      key: certs/b-key.pem
    address: 127.0.0.1
    capacity: {cpus: 1.5, memoryMb: 1024}
    labels: {zone: b, disk: ssd}
`;

async function writeCerts(): Promise<void> {
  await mkdir(join(dir, 'certs'));
  for (const name of ['ca.pem', 'b-cert.pem', 'b-key.pem']) await writeFile(join(dir, 'certs', name), `-----BEGIN ${name}-----\n`);
}

describe('loadGatewayConfig with hosts', () => {
  it('reads two hosts with TLS files relative to the config folder', async () => {
    await writeCerts();
    await writeFile(join(dir, GATEWAY_FILE), TWO_HOSTS);
    const config = await loadGatewayConfig(dir);
    expect(config.hostCheckIntervalMs).toBe(200);
    expect(config.hostDownAfterMs).toBe(1_000);
    expect(config.hosts).toEqual([
      {
        name: 'node-a',
        dockerEndpoint: 'unix:///run/dockmaster/a.sock',
        address: '127.0.0.1',
        capacity: { cpus: 2, memoryMb: 2048, maxReplicas: 10 },
        labels: { zone: 'a' },
        cordoned: false,
      },
      {
        name: 'node-b',
        dockerEndpoint: 'tcp://127.0.0.1:2376',
        tls: { ca: join(dir, 'certs/ca.pem'), cert: join(dir, 'certs/b-cert.pem'), key: join(dir, 'certs/b-key.pem') },
        address: '127.0.0.1',
        capacity: { cpus: 1.5, memoryMb: 1024 },
        labels: { zone: 'b', disk: 'ssd' },
        cordoned: false,
      },
    ]);
  });

  it('a unix socket is not checked at load (the host may come up later: it is then unreachable, not a bad file)', async () => {
    await writeFile(join(dir, GATEWAY_FILE), 'kind: Gateway\nhosts:\n  - {name: a, docker: unix:///nonexistent/a.sock, address: 127.0.0.1, capacity: {cpus: 1, memoryMb: 64}}\n');
    expect((await loadGatewayConfig(dir)).hosts.map((h) => h.dockerEndpoint)).toEqual(['unix:///nonexistent/a.sock']);
  });

  it('names every missing TLS file with its path and line', async () => {
    const problems = await problemsOf(TWO_HOSTS);
    expect(problems).toEqual([
      { file: join(dir, GATEWAY_FILE), path: '/hosts/1/tls/ca', message: `file '${join(dir, 'certs/ca.pem')}' does not exist (relative paths are read from the config folder) (line 13)` },
      { file: join(dir, GATEWAY_FILE), path: '/hosts/1/tls/cert', message: `file '${join(dir, 'certs/b-cert.pem')}' does not exist (relative paths are read from the config folder) (line 14)` },
      { file: join(dir, GATEWAY_FILE), path: '/hosts/1/tls/key', message: `file '${join(dir, 'certs/b-key.pem')}' does not exist (relative paths are read from the config folder) (line 15)` },
    ]);
  });

  it('a TLS path naming a folder is refused', async () => {
    await writeCerts();
    await mkdir(join(dir, 'certs', 'ca-dir'));
    const problems = await problemsOf(TWO_HOSTS.replace('ca: certs/ca.pem', 'ca: certs/ca-dir'));
    expect(problems).toEqual([{ file: join(dir, GATEWAY_FILE), path: '/hosts/1/tls/ca', message: `'${join(dir, 'certs/ca-dir')}' is not a file (line 13)` }]);
  });

  it('a key file that cannot be read is refused with its error code', async () => {
    await writeCerts();
    // A symlink to itself fails to open with ELOOP for every user, root included.
    await rm(join(dir, 'certs', 'b-key.pem'));
    await symlink('b-key.pem', join(dir, 'certs', 'b-key.pem'));
    const problems = await problemsOf(TWO_HOSTS);
    expect(problems).toEqual([{ file: join(dir, GATEWAY_FILE), path: '/hosts/1/tls/key', message: `file '${join(dir, 'certs/b-key.pem')}' cannot be read: ELOOP (line 15)` }]);
  });

  it('an absolute TLS path is used as written', async () => {
    await writeCerts();
    const absolute = join(dir, 'certs', 'ca.pem');
    await writeFile(join(dir, GATEWAY_FILE), TWO_HOSTS.replace('ca: certs/ca.pem', `ca: ${absolute}`));
    expect((await loadGatewayConfig(dir)).hosts[1]?.tls?.ca).toBe(absolute);
  });

  it('schema problems of hosts carry their lines, and TLS files are not looked at until they are fixed', async () => {
    const problems = await problemsOf(TWO_HOSTS.replace('docker: tcp://127.0.0.1:2376', 'docker: tcp://127.0.0.1').replace('name: node-b', 'name: node-a'));
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['/hosts/1/name', "host name 'node-a' is already used by /hosts/0 (line 10)"],
      ['/hosts/1/docker', "a tcp endpoint needs a port: 'tcp://127.0.0.1:2376' (Docker listens on 2375, or 2376 with TLS) (line 11)"],
    ]);
  });

  it('hostDownAfterMs not above hostCheckIntervalMs names the line of hostDownAfterMs', async () => {
    const problems = await problemsOf('kind: Gateway\nhostCheckIntervalMs: 2000\nhostDownAfterMs: 2000\n');
    expect(problems).toEqual([
      {
        file: join(dir, GATEWAY_FILE),
        path: '/hostDownAfterMs',
        message: 'must be more than hostCheckIntervalMs (2000): a host is lost only after missing at least one ping (line 3)',
      },
    ]);
  });
});
