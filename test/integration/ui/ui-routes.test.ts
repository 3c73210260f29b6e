// The status page's files as the admin listener serves them (real 127.0.0.1 listener): open
// without the token while the API is not, strict CSP and content types, and a clear 500 when the
// files cannot be found. I/O: sockets on loopback, reads the page files.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer, listenAdmin } from '../../../src/admin/admin-server.js';
import { registerUi, UI_CONTENT_SECURITY_POLICY } from '../../../src/admin/ui-api.js';
import { capturedLogger, fakeService, send } from '../admin/admin-fixtures.js';

const TOKEN = 'ui-routes-token-0123456789';
const UI_DIR = resolve(import.meta.dirname, '../../../src/admin/ui');

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(token: string | undefined = TOKEN): Promise<number> {
  const app = createAdminServer(fakeService(), { token, logger: capturedLogger().logger });
  closers.push(() => app.close());
  return (await listenAdmin(app, '127.0.0.1', 0)).port;
}

describe('the status page files', () => {
  const files = [
    { path: '/ui', file: 'index.html', type: 'text/html; charset=utf-8' },
    { path: '/ui/', file: 'index.html', type: 'text/html; charset=utf-8' },
    { path: '/ui/status-page.js', file: 'status-page.js', type: 'text/javascript; charset=utf-8' },
    { path: '/ui/status-page.css', file: 'status-page.css', type: 'text/css; charset=utf-8' },
  ];
  for (const { path, file, type } of files) {
    it(`serves ${path} without the token, with the strict CSP`, async () => {
      const port = await start();
      const answer = await send(port, 'GET', path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(type);
      expect(answer.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.text).toBe(readFileSync(join(UI_DIR, file), 'utf8'));
    });
  }

  it('sends the exact policy the page is written for', () => {
    expect(UI_CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('keeps the data behind the token: the API still answers 401 to the page without it', async () => {
    const port = await start();
    for (const path of ['/v1/services', '/v1/routes', '/v1/events']) expect((await send(port, 'GET', path)).status).toBe(401);
    expect((await send(port, 'GET', '/ui/other.js')).status).toBe(401);
  });

  it('answers 405 to other methods on the page', async () => {
    const port = await start();
    const answer = await send(port, 'POST', '/ui', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(405);
    expect(answer.headers['allow']).toBe('GET, HEAD');
  });

  it('answers 500 naming the folders looked in when the files are missing, and logs it once', async () => {
    const log = capturedLogger();
    const app = fastify();
    closers.push(() => app.close());
    registerUi({ app, service: fakeService(), logger: log.logger, allow: () => undefined }, ['/nonexistent/a', '/nonexistent/b']);
    const port = (await listenAdmin(app, '127.0.0.1', 0)).port;
    const answer = await send(port, 'GET', '/ui');
    expect(answer.status).toBe(500);
    expect(answer.json.error).toEqual({ code: 'DM_ERR_ADMIN_INTERNAL', message: 'status page files are missing: no index.html in /nonexistent/a or /nonexistent/b' });
    expect(log.lines.filter((l) => l['msg'] === 'status page unavailable: /ui will answer 500')).toHaveLength(1);
  });
});
