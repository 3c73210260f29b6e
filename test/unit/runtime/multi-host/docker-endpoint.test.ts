// dockerConnectionOptions: a host's endpoint and TLS material to dockerode options. Unit: pure.
import { describe, expect, it } from 'vitest';
import { dockerConnectionOptions } from '../../../../src/runtime/multi-host/docker-endpoint.js';

describe('dockerConnectionOptions', () => {
  const cases: { name: string; endpoint: string | undefined; tls?: Parameters<typeof dockerConnectionOptions>[2]; expected: unknown }[] = [
    { name: 'a unix socket', endpoint: 'unix:///var/run/docker.sock', expected: { socketPath: '/var/run/docker.sock' } },
    { name: 'tcp without TLS is plain http', endpoint: 'tcp://10.0.0.5:2375', expected: { host: '10.0.0.5', port: 2375, protocol: 'http' } },
    {
      name: 'tcp with TLS files is https with ca, cert and key',
      endpoint: 'tcp://docker-b.internal:2376',
      tls: { ca: 'CA', cert: 'CERT', key: 'KEY' },
      expected: { host: 'docker-b.internal', port: 2376, protocol: 'https', ca: 'CA', cert: 'CERT', key: 'KEY' },
    },
    { name: 'tcp with only a CA (server verified, no client certificate)', endpoint: 'tcp://h:2376', tls: { ca: 'CA' }, expected: { host: 'h', port: 2376, protocol: 'https', ca: 'CA' } },
    { name: 'an IPv6 address in brackets', endpoint: 'tcp://[::1]:2375', expected: { host: '::1', port: 2375, protocol: 'http' } },
    { name: 'no endpoint: dockerode applies DOCKER_HOST or the local socket', endpoint: undefined, expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(dockerConnectionOptions('h1', c.endpoint, c.tls)).toEqual(c.expected);
    });
  }

  const bad: { name: string; endpoint: string | undefined; tls?: Parameters<typeof dockerConnectionOptions>[2]; message: RegExp }[] = [
    { name: 'a relative unix path', endpoint: 'unix://docker.sock', message: /host h1: docker endpoint "unix:\/\/docker.sock" must be/ },
    { name: 'tcp without a port', endpoint: 'tcp://10.0.0.5', message: /must be 'unix:\/\/\/path' or 'tcp:\/\/host:port'/ },
    { name: 'a port out of range', endpoint: 'tcp://h:70000', message: /must be/ },
    { name: 'http:// instead of tcp://', endpoint: 'http://h:2375', message: /must be/ },
    { name: 'TLS files with a unix socket', endpoint: 'unix:///var/run/docker.sock', tls: { ca: 'CA' }, message: /TLS files need a tcp:\/\/ endpoint/ },
    { name: 'TLS files without an endpoint', endpoint: undefined, tls: { cert: 'C', key: 'K' }, message: /TLS files need a tcp:\/\/ endpoint/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} with DM_ERR_CONFIG_INVALID naming the host`, () => {
      expect(() => dockerConnectionOptions('h1', c.endpoint, c.tls)).toThrow(c.message);
      expect(() => dockerConnectionOptions('h1', c.endpoint, c.tls)).toThrow(expect.objectContaining({ code: 'DM_ERR_CONFIG_INVALID' }));
    });
  }
});
