// The admin bind guard: no token means loopback only. Opens only loopback sockets (or none).
import { describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin, startAdminServer } from '../../../src/admin/admin-server.js';
import { assertSafeAdminBind, hostFromHostHeader, isLoopbackHost } from '../../../src/admin/loopback.js';
import { DockmasterError } from '../../../src/errors.js';
import { capturedLogger, fakeService } from './admin-fixtures.js';

const hosts: Array<[string, boolean]> = [
  ['127.0.0.1', true],
  ['127.0.0.2', true],
  ['127.255.255.254', true],
  ['localhost', true],
  ['LOCALHOST', true],
  ['localhost.', true],
  ['::1', true],
  ['[::1]', true],
  ['0:0:0:0:0:0:0:1', true],
  ['::ffff:127.0.0.1', true],
  ['0.0.0.0', false],
  ['::', false],
  ['', false],
  ['10.0.0.1', false],
  ['128.0.0.1', false],
  ['127.0.0.256', false],
  ['127.1', false],
  ['0x7f.0.0.1', false],
  ['::2', false],
  ['::ffff:10.0.0.1', false],
  ['foo.localhost', false],
  ['localhost.example.com', false],
  ['example.com', false],
];

describe('isLoopbackHost', () => {
  it.each(hosts)('says %j is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('hostFromHostHeader', () => {
  it.each([
    ['127.0.0.1:9090', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['[::1]:9090', '::1'],
    ['[::1]', '::1'],
    ['evil.example:80', 'evil.example'],
  ])('reads %j as %j', (header, host) => {
    expect(hostFromHostHeader(header)).toBe(host);
  });
});

describe('admin bind guard', () => {
  function expectUnsafeBind(error: unknown): void {
    expect(error).toBeInstanceOf(DockmasterError);
    expect((error as DockmasterError).code).toBe('DM_ERR_ADMIN_UNSAFE_BIND');
  }

  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    it(`refuses to bind ${host} without a token, before opening a socket`, async () => {
      const app = createAdminServer(fakeService(), { logger: capturedLogger().logger });
      try {
        await listenAdmin(app, host, 0).then(
          () => expect.fail('listenAdmin should have refused'),
          expectUnsafeBind,
        );
        expect(app.server.listening).toBe(false);
      } finally {
        await app.close();
      }
    });
  }

  it('refuses in startAdminServer too', async () => {
    await startAdminServer(fakeService(), { host: '0.0.0.0', port: 0, logger: capturedLogger().logger }).then(
      () => expect.fail('startAdminServer should have refused'),
      expectUnsafeBind,
    );
  });

  it('allows any host once a token is configured (decided without binding)', () => {
    expect(() => assertSafeAdminBind('0.0.0.0', true)).not.toThrow();
    expect(() => assertSafeAdminBind('::', true)).not.toThrow();
    expect(() => assertSafeAdminBind('0.0.0.0', false)).toThrow(DockmasterError);
  });

  it('binds a loopback address without a token', async () => {
    const started = await startAdminServer(fakeService(), { host: '127.0.0.1', port: 0, logger: capturedLogger().logger });
    try {
      expect(started.address.address).toBe('127.0.0.1');
      expect(started.address.port).toBeGreaterThan(0);
    } finally {
      await started.app.close();
    }
  });

  it('refuses an empty or malformed token when the server is built', () => {
    for (const token of ['', 'two words', 'line\nbreak']) {
      expect(() => createAdminServer(fakeService(), { token, logger: capturedLogger().logger }), JSON.stringify(token)).toThrow(
        expect.objectContaining({ code: 'DM_ERR_ADMIN_TOKEN_INVALID' }),
      );
    }
  });
});
