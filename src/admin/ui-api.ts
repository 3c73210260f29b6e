// Serves the status page: GET /ui (HTML shell), its script and stylesheet, under a strict
// Content-Security-Policy. The shell holds no data, so it needs no token (like /healthz); every
// figure on the page comes through the authenticated API. I/O (reads files once, fastify).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AdminContext } from './admin-context.js';
import { sendError } from './replies.js';

/** Only same-origin scripts, styles and fetches; no inline code, frames, forms or base tricks. */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface UiFile {
  readonly url: string;
  readonly file: string;
  readonly contentType: string;
}

const UI_FILES: readonly UiFile[] = [
  { url: '/ui', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { url: '/ui/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { url: '/ui/status-page.js', file: 'status-page.js', contentType: 'text/javascript; charset=utf-8' },
  { url: '/ui/status-page.css', file: 'status-page.css', contentType: 'text/css; charset=utf-8' },
];

/** The status page's URLs, served without the token. */
export const UI_PATHS: readonly string[] = UI_FILES.map((f) => f.url);

/**
 * Folders that may hold the page, first match wins: `ui/` next to this module when it runs from
 * src/ (vitest); for a tsc build (dist/src/admin, .build-x/src/admin), which copies no non-TS
 * files, the source tree's src/admin/ui three levels up.
 */
export function uiDirCandidates(moduleDir: string): string[] {
  return [join(moduleDir, 'ui'), resolve(moduleDir, '../../../src/admin/ui')];
}

type Loaded = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly message: string };

/** Reads every file once, from the first folder holding index.html; a missing one becomes an
 * error message naming where it was looked for. */
function loadUiFiles(dirs: readonly string[]): Map<string, Loaded> {
  const dir = dirs.find((d) => existsSync(join(d, 'index.html')));
  const files = new Map<string, Loaded>();
  for (const { file } of UI_FILES) {
    if (files.has(file)) continue;
    if (dir === undefined) {
      files.set(file, { ok: false, message: `status page files are missing: no index.html in ${dirs.join(' or ')}` });
      continue;
    }
    try {
      files.set(file, { ok: true, body: readFileSync(join(dir, file)) });
    } catch (error) {
      files.set(file, { ok: false, message: `status page file ${join(dir, file)} cannot be read: ${(error as Error).message}` });
    }
  }
  return files;
}

export function registerUi({ app, logger, allow }: AdminContext, dirs: readonly string[] = uiDirCandidates(import.meta.dirname)): void {
  const files = loadUiFiles(dirs);
  const problems = [...new Set([...files.values()].flatMap((f) => (f.ok ? [] : [f.message])))];
  if (problems.length > 0) logger.error({ problems }, 'status page unavailable: /ui will answer 500');

  for (const { url, file, contentType } of UI_FILES) {
    allow(url, 'GET');
    app.get(url, async (request, reply) => {
      const loaded = files.get(file);
      if (loaded === undefined || !loaded.ok) {
        return sendError(logger, request, reply, 'DM_ERR_ADMIN_INTERNAL', { message: loaded?.message ?? `no status page file ${file}` });
      }
      return reply
        .header('content-type', contentType)
        .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer')
        .send(loaded.body);
    });
  }
}
