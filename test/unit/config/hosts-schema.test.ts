// The `hosts:` list and host health settings of `dockmaster.yaml`: what a valid list becomes
// (HostConfig, TLS paths resolved against the config folder, never cordoned), and every problem
// with its path: each field, endpoint forms, addresses, labels, duplicates, the ping timing. Pure.
import { describe, expect, it } from 'vitest';
import { validateGatewayConfig } from '../../../src/config/gateway-schema.js';
import { hostAddressProblem, parseDockerEndpoint } from '../../../src/config/hosts-schema.js';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.js';

const FILE = '/cfg/dockmaster.yaml';

function host(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'a', docker: 'unix:///run/docker-a.sock', address: '127.0.0.1', capacity: { cpus: 2, memoryMb: 2048 }, ...overrides };
}

function valueOf(doc: Record<string, unknown>) {
  const result = validateGatewayConfig({ kind: 'Gateway', ...doc }, FILE);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.problems)}`);
  return result.value;
}

function problemsOf(doc: Record<string, unknown>): Array<{ path: string; message: string }> {
  const result = validateGatewayConfig({ kind: 'Gateway', ...doc }, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message })).sort((a, b) => a.path.localeCompare(b.path));
}

describe('dockmaster.yaml hosts: accepted', () => {
  it('no hosts: an empty list, the default ping timing, nothing else changes', () => {
    const value = valueOf({});
    expect(value.hosts).toEqual([]);
    expect(value.hostCheckIntervalMs).toBe(1_000);
    expect(value.hostDownAfterMs).toBe(5_000);
    expect(value).toEqual(GATEWAY_DEFAULTS);
  });

  it('an empty hosts list is the same as none', () => {
    expect(valueOf({ hosts: [] }).hosts).toEqual([]);
  });

  it('a minimal host becomes a HostConfig with no labels, not cordoned', () => {
    expect(valueOf({ hosts: [host()] }).hosts).toEqual([
      { name: 'a', dockerEndpoint: 'unix:///run/docker-a.sock', address: '127.0.0.1', capacity: { cpus: 2, memoryMb: 2048 }, labels: {}, cordoned: false },
    ]);
  });

  it('a full host keeps its labels and maxReplicas, and resolves TLS paths against the config folder', () => {
    const [value] = valueOf({
      hosts: [
        host({
          name: 'node-b',
          docker: 'tcp://10.0.0.6:2376',
          tls: { ca: 'certs/ca.pem', cert: 'certs/b-cert.pem', key: '/etc/dockmaster/b-key.pem' },
          address: '10.0.0.6',
          capacity: { cpus: 0.5, memoryMb: 512, maxReplicas: 8 },
          labels: { zone: 'b', 'example.com/disk': 'ssd', empty: '' },
        }),
      ],
    }).hosts;
    expect(value).toEqual({
      name: 'node-b',
      dockerEndpoint: 'tcp://10.0.0.6:2376',
      tls: { ca: '/cfg/certs/ca.pem', cert: '/cfg/certs/b-cert.pem', key: '/etc/dockmaster/b-key.pem' },
      address: '10.0.0.6',
      capacity: { cpus: 0.5, memoryMb: 512, maxReplicas: 8 },
      labels: { zone: 'b', 'example.com/disk': 'ssd', empty: '' },
      cordoned: false,
    });
  });

  it('a ca alone is enough TLS (verify the daemon, no client certificate)', () => {
    expect(valueOf({ hosts: [host({ docker: 'tcp://node-a.internal:2376', tls: { ca: 'ca.pem' } })] }).hosts[0]?.tls).toEqual({ ca: '/cfg/ca.pem' });
  });

  it('several hosts keep their order; the same address on different engines is fine (one machine, two daemons)', () => {
    const hosts = valueOf({
      hosts: [host({ name: 'a', docker: 'unix:///run/a.sock' }), host({ name: 'b', docker: 'unix:///run/b.sock' }), host({ name: 'c', docker: 'tcp://127.0.0.1:2375' })],
    }).hosts;
    expect(hosts.map((h) => h.name)).toEqual(['a', 'b', 'c']);
    expect(new Set(hosts.map((h) => h.address))).toEqual(new Set(['127.0.0.1']));
  });

  it('a non-loopback address and an IPv6 address are allowed', () => {
    expect(valueOf({ hosts: [host({ address: '192.168.1.20' })] }).hosts[0]?.address).toBe('192.168.1.20');
    expect(valueOf({ hosts: [host({ address: '::1' })] }).hosts[0]?.address).toBe('::1');
    expect(valueOf({ hosts: [host({ address: 'node-a.internal' })] }).hosts[0]?.address).toBe('node-a.internal');
  });

  it('cpus in thousandths are accepted', () => {
    expect(valueOf({ hosts: [host({ capacity: { cpus: 1.125, memoryMb: 1 } })] }).hosts[0]?.capacity.cpus).toBe(1.125);
  });

  it('host ping timing is taken as given', () => {
    const value = valueOf({ hostCheckIntervalMs: 200, hostDownAfterMs: 1_000 });
    expect(value.hostCheckIntervalMs).toBe(200);
    expect(value.hostDownAfterMs).toBe(1_000);
  });

  it('a shorter check interval alone keeps the default down time', () => {
    expect(valueOf({ hostCheckIntervalMs: 100 }).hostDownAfterMs).toBe(5_000);
  });

  it('does not change the value it was given', () => {
    const input = { kind: 'Gateway', hosts: [host({ labels: { zone: 'a' } })] };
    const copy = structuredClone(input);
    validateGatewayConfig(input, FILE);
    expect(input).toEqual(copy);
  });
});

describe('dockmaster.yaml hosts: problems', () => {
  const cases: Array<{ name: string; doc: Record<string, unknown>; problems: Array<{ path: string; message: string | RegExp }> }> = [
    { name: 'hosts that is not a list', doc: { hosts: { a: {} } }, problems: [{ path: '/hosts', message: 'must be a list' }] },
    {
      name: 'a host without its required fields names each one',
      doc: { hosts: [{ labels: {} }] },
      problems: [
        { path: '/hosts/0/address', message: 'is required' },
        { path: '/hosts/0/capacity', message: 'is required' },
        { path: '/hosts/0/docker', message: 'is required' },
        { path: '/hosts/0/name', message: 'is required' },
      ],
    },
    { name: 'an unknown key in a host', doc: { hosts: [host({ zone: 'a' })] }, problems: [{ path: '/hosts/0/zone', message: "unknown key 'zone'" }] },
    {
      name: 'an upper-case host name',
      doc: { hosts: [host({ name: 'Node-A' })] },
      problems: [{ path: '/hosts/0/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
    {
      name: 'a host name ending with a dash',
      doc: { hosts: [host({ name: 'a-' })] },
      problems: [{ path: '/hosts/0/name', message: /^must be 1 to 63 lower-case/ }],
    },
    {
      name: 'a host name used twice, reported on the later one',
      doc: { hosts: [host({ name: 'a', docker: 'unix:///run/a.sock' }), host({ name: 'b', docker: 'unix:///run/b.sock' }), host({ name: 'a', docker: 'unix:///run/c.sock' })] },
      problems: [{ path: '/hosts/2/name', message: "host name 'a' is already used by /hosts/0" }],
    },
    {
      name: 'the same engine for two hosts',
      doc: { hosts: [host({ name: 'a', docker: 'tcp://Node-A:2375' }), host({ name: 'b', docker: 'tcp://node-a:2375' })] },
      problems: [{ path: '/hosts/1/docker', message: "'tcp://node-a:2375' is the engine of /hosts/0 too: each host needs its own Docker engine" }],
    },
    {
      name: 'an http:// endpoint',
      doc: { hosts: [host({ docker: 'http://127.0.0.1:2375' })] },
      problems: [{ path: '/hosts/0/docker', message: "scheme 'http://' is not a Docker endpoint: must be 'unix:///absolute/socket/path' or 'tcp://host:port'" }],
    },
    {
      name: 'an endpoint without a scheme',
      doc: { hosts: [host({ docker: '/var/run/docker.sock' })] },
      problems: [{ path: '/hosts/0/docker', message: "must be 'unix:///absolute/socket/path' or 'tcp://host:port'" }],
    },
    {
      name: 'a tcp endpoint without a port',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.5' })] },
      problems: [{ path: '/hosts/0/docker', message: "a tcp endpoint needs a port: 'tcp://10.0.0.5:2376' (Docker listens on 2375, or 2376 with TLS)" }],
    },
    {
      name: 'a tcp endpoint with an empty port',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.5:' })] },
      problems: [{ path: '/hosts/0/docker', message: /^a tcp endpoint needs a port/ }],
    },
    {
      name: 'a tcp endpoint with port 0',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.5:0' })] },
      problems: [{ path: '/hosts/0/docker', message: "port '0' must be a number from 1 to 65535" }],
    },
    {
      name: 'a tcp endpoint with a port over 65535',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.5:70000' })] },
      problems: [{ path: '/hosts/0/docker', message: "port '70000' must be a number from 1 to 65535" }],
    },
    {
      name: 'a tcp endpoint with a path',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.5:2375/v1.43' })] },
      problems: [{ path: '/hosts/0/docker', message: /^a tcp endpoint is 'tcp:\/\/host:port' with no path/ }],
    },
    {
      name: 'a tcp endpoint without a host',
      doc: { hosts: [host({ docker: 'tcp://:2375' })] },
      problems: [{ path: '/hosts/0/docker', message: "a tcp endpoint needs a host, e.g. 'tcp://10.0.0.5:2376'" }],
    },
    {
      name: 'a tcp endpoint with a bad IPv4 host',
      doc: { hosts: [host({ docker: 'tcp://10.0.0.300:2375' })] },
      problems: [{ path: '/hosts/0/docker', message: /^a tcp endpoint needs a valid host: '10.0.0.300' is not an IPv4 address/ }],
    },
    {
      name: 'a tcp endpoint with a bad bracketed IPv6 host',
      doc: { hosts: [host({ docker: 'tcp://[::g]:2375' })] },
      problems: [{ path: '/hosts/0/docker', message: "a tcp endpoint needs a valid host: '::g' is not an IPv6 address" }],
    },
    {
      name: 'a unix endpoint with a relative path',
      doc: { hosts: [host({ docker: 'unix://run/docker.sock' })] },
      problems: [{ path: '/hosts/0/docker', message: "a unix endpoint needs an absolute socket path, e.g. 'unix:///var/run/docker.sock'" }],
    },
    {
      name: 'a unix endpoint naming only /',
      doc: { hosts: [host({ docker: 'unix:///' })] },
      problems: [{ path: '/hosts/0/docker', message: /^a unix endpoint needs an absolute socket path/ }],
    },
    { name: 'an empty endpoint', doc: { hosts: [host({ docker: '' })] }, problems: [{ path: '/hosts/0/docker', message: 'must not be empty' }] },
    {
      name: 'tls with a unix endpoint',
      doc: { hosts: [host({ tls: { ca: 'ca.pem' } })] },
      problems: [{ path: '/hosts/0/tls', message: 'applies only to a tcp:// docker endpoint (a unix socket is not encrypted)' }],
    },
    {
      name: 'an empty tls section',
      doc: { hosts: [host({ docker: 'tcp://127.0.0.1:2376', tls: {} })] },
      problems: [{ path: '/hosts/0/tls', message: 'must name ca, cert and key files (or ca alone to verify the daemon only)' }],
    },
    {
      name: 'a client certificate without its key',
      doc: { hosts: [host({ docker: 'tcp://127.0.0.1:2376', tls: { ca: 'ca.pem', cert: 'cert.pem' } })] },
      problems: [{ path: '/hosts/0/tls/key', message: 'is required with the other of cert and key (a client certificate and its key go together)' }],
    },
    {
      name: 'a key without its client certificate',
      doc: { hosts: [host({ docker: 'tcp://127.0.0.1:2376', tls: { key: 'key.pem' } })] },
      problems: [{ path: '/hosts/0/tls/cert', message: /^is required with the other of cert and key/ }],
    },
    {
      name: 'an unknown tls key',
      doc: { hosts: [host({ docker: 'tcp://127.0.0.1:2376', tls: { ca: 'ca.pem', verify: true } })] },
      problems: [{ path: '/hosts/0/tls/verify', message: "unknown key 'verify'" }],
    },
    { name: 'an empty tls path', doc: { hosts: [host({ docker: 'tcp://127.0.0.1:2376', tls: { ca: '' } })] }, problems: [{ path: '/hosts/0/tls/ca', message: 'must not be empty' }] },
    {
      name: 'an address with a port',
      doc: { hosts: [host({ address: '127.0.0.1:8080' })] },
      problems: [{ path: '/hosts/0/address', message: /^'127.0.0.1:8080' is not an IPv6 address: must be an IP address or a host name/ }],
    },
    {
      name: 'an address given as a URL',
      doc: { hosts: [host({ address: 'http://10.0.0.5' })] },
      problems: [{ path: '/hosts/0/address', message: /is not an IPv6 address/ }],
    },
    { name: 'an IPv4 address out of range', doc: { hosts: [host({ address: '256.0.0.1' })] }, problems: [{ path: '/hosts/0/address', message: /^'256.0.0.1' is not an IPv4 address/ }] },
    { name: 'a dotted number that is no address', doc: { hosts: [host({ address: '10.0.5' })] }, problems: [{ path: '/hosts/0/address', message: /^'10.0.5' is not an IPv4 address/ }] },
    { name: 'an IPv6 address in brackets', doc: { hosts: [host({ address: '[::1]' })] }, problems: [{ path: '/hosts/0/address', message: 'write an IPv6 address without brackets, e.g. ::1' }] },
    { name: 'a host name with an underscore', doc: { hosts: [host({ address: 'node_a' })] }, problems: [{ path: '/hosts/0/address', message: /^'node_a' must be an IP address or a host name/ }] },
    { name: 'an empty address', doc: { hosts: [host({ address: '' })] }, problems: [{ path: '/hosts/0/address', message: 'must not be empty' }] },
    { name: 'capacity without cpus', doc: { hosts: [host({ capacity: { memoryMb: 1024 } })] }, problems: [{ path: '/hosts/0/capacity/cpus', message: 'is required' }] },
    { name: 'capacity without memoryMb', doc: { hosts: [host({ capacity: { cpus: 1 } })] }, problems: [{ path: '/hosts/0/capacity/memoryMb', message: 'is required' }] },
    { name: 'zero cpus', doc: { hosts: [host({ capacity: { cpus: 0, memoryMb: 1024 } })] }, problems: [{ path: '/hosts/0/capacity/cpus', message: 'must be a number from 0.001 to 4096' }] },
    { name: 'negative cpus', doc: { hosts: [host({ capacity: { cpus: -2, memoryMb: 1024 } })] }, problems: [{ path: '/hosts/0/capacity/cpus', message: 'must be a number from 0.001 to 4096' }] },
    {
      name: 'cpus finer than thousandths',
      doc: { hosts: [host({ capacity: { cpus: 0.0015, memoryMb: 1024 } })] },
      problems: [{ path: '/hosts/0/capacity/cpus', message: 'must be a multiple of 0.001 (cpus are counted in thousandths)' }],
    },
    { name: 'cpus as a string', doc: { hosts: [host({ capacity: { cpus: '2', memoryMb: 1024 } })] }, problems: [{ path: '/hosts/0/capacity/cpus', message: 'must be a number from 0.001 to 4096' }] },
    { name: 'zero memory', doc: { hosts: [host({ capacity: { cpus: 1, memoryMb: 0 } })] }, problems: [{ path: '/hosts/0/capacity/memoryMb', message: 'must be an integer from 1 to 67108864' }] },
    { name: 'fractional memory', doc: { hosts: [host({ capacity: { cpus: 1, memoryMb: 1.5 } })] }, problems: [{ path: '/hosts/0/capacity/memoryMb', message: 'must be an integer from 1 to 67108864' }] },
    {
      name: 'maxReplicas of zero',
      doc: { hosts: [host({ capacity: { cpus: 1, memoryMb: 1, maxReplicas: 0 } })] },
      problems: [{ path: '/hosts/0/capacity/maxReplicas', message: 'must be an integer from 1 to 10000' }],
    },
    { name: 'an unknown capacity key', doc: { hosts: [host({ capacity: { cpus: 1, memoryMb: 1, disk: 10 } })] }, problems: [{ path: '/hosts/0/capacity/disk', message: "unknown key 'disk'" }] },
    { name: 'labels that are a list', doc: { hosts: [host({ labels: ['zone=a'] })] }, problems: [{ path: '/hosts/0/labels', message: 'must be a mapping of keys to values' }] },
    { name: 'a label value that is a number', doc: { hosts: [host({ labels: { zone: 1 } })] }, problems: [{ path: '/hosts/0/labels/zone', message: 'must be a string' }] },
    { name: 'a label name with a space', doc: { hosts: [host({ labels: { 'my zone': 'a' } })] }, problems: [{ path: '/hosts/0/labels/my zone', message: /^'my zone' is not a label name/ }] },
    { name: 'a label name with a slash, escaped in the path', doc: { hosts: [host({ labels: { 'a/b/c': 'x' } })] }, problems: [{ path: '/hosts/0/labels/a~1b~1c', message: /is not a label name/ }] },
    { name: 'a label value with a space', doc: { hosts: [host({ labels: { zone: 'eu west' } })] }, problems: [{ path: '/hosts/0/labels/zone', message: /^'eu west' is not a label value/ }] },
    { name: 'a label value of 64 characters', doc: { hosts: [host({ labels: { zone: 'a'.repeat(64) } })] }, problems: [{ path: '/hosts/0/labels/zone', message: /is not a label value: at most 63/ }] },
    {
      name: 'more than 64 labels',
      doc: { hosts: [host({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])) })] },
      problems: [{ path: '/hosts/0/labels', message: 'must have at most 64 entries' }],
    },
    {
      name: 'every problem of several hosts, not only the first',
      doc: { hosts: [host({ name: 'A' }), host({ name: 'b', docker: 'ftp://x:1', address: '' })] },
      problems: [
        { path: '/hosts/0/name', message: /^must be 1 to 63/ },
        { path: '/hosts/1/address', message: 'must not be empty' },
        { path: '/hosts/1/docker', message: /^scheme 'ftp:\/\/'/ },
      ],
    },
    {
      name: 'hostDownAfterMs equal to hostCheckIntervalMs',
      doc: { hostCheckIntervalMs: 1_000, hostDownAfterMs: 1_000 },
      problems: [{ path: '/hostDownAfterMs', message: 'must be more than hostCheckIntervalMs (1000): a host is lost only after missing at least one ping' }],
    },
    {
      name: 'hostDownAfterMs below the default check interval',
      doc: { hostDownAfterMs: 500 },
      problems: [{ path: '/hostDownAfterMs', message: 'must be more than hostCheckIntervalMs (1000): a host is lost only after missing at least one ping' }],
    },
    {
      name: 'a check interval at or over the default down time',
      doc: { hostCheckIntervalMs: 5_000 },
      problems: [{ path: '/hostCheckIntervalMs', message: 'must be less than hostDownAfterMs (default 5000): a host is lost only after missing at least one ping' }],
    },
    { name: 'a check interval under 50 ms', doc: { hostCheckIntervalMs: 10 }, problems: [{ path: '/hostCheckIntervalMs', message: 'must be an integer from 50 to 60000' }] },
    { name: 'a down time over ten minutes', doc: { hostDownAfterMs: 600_001 }, problems: [{ path: '/hostDownAfterMs', message: 'must be an integer from 100 to 600000' }] },
    { name: 'a down time as text', doc: { hostDownAfterMs: '5s' }, problems: [{ path: '/hostDownAfterMs', message: 'must be an integer from 100 to 600000' }] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const problems = problemsOf(c.doc);
      expect(problems.map((p) => p.path)).toEqual(c.problems.map((p) => p.path));
      c.problems.forEach((expected, i) => {
        if (typeof expected.message === 'string') expect(problems[i]?.message).toBe(expected.message);
        else expect(problems[i]?.message).toMatch(expected.message);
      });
    });
  }

  it('more than 256 hosts is refused at /hosts', () => {
    const hosts = Array.from({ length: 257 }, (_, i) => host({ name: `h${i}`, docker: `unix:///run/h${i}.sock` }));
    expect(problemsOf({ hosts })).toEqual([{ path: '/hosts', message: 'must list at most 256 items' }]);
  });

  it('host problems are reported together with the other problems of the file', () => {
    const problems = problemsOf({ slowStartMs: -1, hosts: [host({ docker: 'tcp://x' })] });
    expect(problems.map((p) => p.path)).toEqual(['/hosts/0/docker', '/slowStartMs']);
  });
});

describe('parseDockerEndpoint', () => {
  const ok: Array<[string, unknown]> = [
    ['unix:///var/run/docker.sock', { scheme: 'unix', socketPath: '/var/run/docker.sock' }],
    ['tcp://127.0.0.1:2375', { scheme: 'tcp', host: '127.0.0.1', port: 2375 }],
    ['tcp://node-a.internal:2376', { scheme: 'tcp', host: 'node-a.internal', port: 2376 }],
    ['tcp://[::1]:2375', { scheme: 'tcp', host: '::1', port: 2375 }],
  ];
  for (const [text, endpoint] of ok) {
    it(`reads ${text}`, () => {
      expect(parseDockerEndpoint(text)).toEqual({ ok: true, endpoint });
    });
  }

  it('refuses an IPv6 host without brackets (its colons hide the port)', () => {
    expect(parseDockerEndpoint('tcp://::1:2375').ok).toBe(false);
  });

  it('refuses npipe:// (Windows named pipes do not exist here)', () => {
    expect(parseDockerEndpoint('npipe:////./pipe/docker_engine')).toEqual({ ok: false, problem: expect.stringMatching(/^scheme 'npipe:\/\/'/) });
  });
});

describe('hostAddressProblem', () => {
  for (const address of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '::1', 'fe80::1', '2001:db8::5', 'localhost', 'node-a', 'node-a.example.com.']) {
    it(`accepts ${address}`, () => {
      expect(hostAddressProblem(address)).toBeUndefined();
    });
  }
  for (const address of ['1.2.3.4.5', '-node', 'node-', 'a..b', ':::1', 'x'.repeat(64)]) {
    it(`refuses ${address.length > 20 ? 'a 64-character label' : address}`, () => {
      expect(hostAddressProblem(address)).toEqual(expect.any(String));
    });
  }
});
