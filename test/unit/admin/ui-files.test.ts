// Static checks of the status page's files: what its Content-Security-Policy requires (no inline
// script, style or handlers), no HTML built from strings, every element the script looks up is in
// the page, and where the files are found from src/ and from a build. Reads files; no sockets.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY, UI_PATHS, uiDirCandidates } from '../../../src/admin/ui-api.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const UI_DIR = join(ROOT, 'src/admin/ui');
const html = readFileSync(join(UI_DIR, 'index.html'), 'utf8');
const script = readFileSync(join(UI_DIR, 'status-page.js'), 'utf8');

describe('status page HTML', () => {
  it('loads scripts only from files, never inline', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/ui\/[^"]+"/);
      expect(body?.trim()).toBe('');
    }
  });

  it('has no inline style, style element or event handler attribute', () => {
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('references only assets the admin listener serves, and no other origin', () => {
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      if (ref.startsWith('data:')) continue;
      expect(UI_PATHS, ref).toContain(ref);
    }
  });

  it('declares an empty icon so the browser does not ask the API for /favicon.ico', () => {
    expect(html).toMatch(/<link rel="icon" href="data:,">/);
    expect(UI_CONTENT_SECURITY_POLICY).toMatch(/img-src 'self' data:/);
  });
});

describe('status page script', () => {
  it('never turns strings into HTML or code', () => {
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'createContextualFragment']) {
      expect(script, sink).not.toContain(sink);
    }
  });

  it('looks up only elements that the page has', () => {
    const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    const lookedUp = [...script.matchAll(/byId\('([^']+)'\)/g)].map((m) => m[1]);
    expect(lookedUp.length).toBeGreaterThan(10);
    for (const id of lookedUp) expect(ids, `#${id}`).toContain(id);
    // fillTable(id, ...) also reads `${id}-empty`.
    for (const [, id] of script.matchAll(/fillTable\(\s*'([^']+)'/g)) expect(ids, `#${id}-empty`).toContain(`${id}-empty`);
  });

  it('sends the token only as a bearer header, never in a URL', () => {
    expect(script).toContain("headers.set('authorization', `Bearer ${token}`)");
    expect(script).not.toMatch(/[?&]token=/);
  });
});

describe('uiDirCandidates', () => {
  it('finds the files next to the module when it runs from src/', () => {
    const [first] = uiDirCandidates(join(ROOT, 'src/admin'));
    expect(first).toBe(UI_DIR);
    expect(existsSync(join(first ?? '', 'index.html'))).toBe(true);
  });

  it('falls back to the source tree from a tsc build, which copies no HTML, JS or CSS', () => {
    for (const build of ['dist', '.build-someone']) {
      expect(uiDirCandidates(join(ROOT, build, 'src/admin'))).toEqual([join(ROOT, build, 'src/admin/ui'), UI_DIR]);
    }
  });
});
