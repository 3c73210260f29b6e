import { describe, expect, it } from 'vitest';
import { normalizeTarget } from '../../../src/proxy/normalize-path.js';

describe('normalizeTarget', () => {
  it.each([
    ['/', '/', ''],
    ['/api/users', '/api/users', ''],
    ['/api/users?x=1&y=../..', '/api/users', '?x=1&y=../..'],
    ['/a/./b', '/a/b', ''],
    ['/a/b/../c', '/a/c', ''],
    ['/a/b/..', '/a/', ''],
    ['/a//b///c', '/a/b/c', ''],
    ['//admin', '/admin', ''],
    ['/%61dmin', '/admin', ''],
    ['/a/%2e%2e/admin', '/admin', ''],
    ['/a/%2E./admin', '/admin', ''],
    ['/caf%c3%a9', '/caf%C3%A9', ''],
    ['/a%20b', '/a%20b', ''],
    ['/.well-known/x', '/.well-known/x', ''],
    ['/a/', '/a/', ''],
    ['http://example.com/x/../y?q', '/y', '?q'],
    ['http://example.com', '/', ''],
  ])('normalises %s to %s', (input, path, query) => {
    const result = normalizeTarget(input);
    expect(result).toMatchObject({ ok: true, path, query });
  });

  it('takes the authority of an absolute-form target', () => {
    expect(normalizeTarget('http://Example.com:8080/x')).toMatchObject({ ok: true, authority: 'Example.com:8080', path: '/x' });
  });

  it.each([
    ['/..', 'escapes'],
    ['/a/../..', 'escapes'],
    ['/%2e%2e/etc/passwd', 'escapes'],
    ['/a%2fb', 'encoded "/"'],
    ['/a%2F..%2Fadmin', 'encoded "/"'],
    ['/a%5cb', 'encoded "\\"'],
    ['/a\\b', 'backslash'],
    ['/a%00b', 'NUL'],
    ['/a\0b', 'NUL'],
    ['/a%zzb', 'malformed'],
    ['/a%4', 'malformed'],
    ['*', 'must start'],
    ['ftp://x/y', 'must start'],
    ['http://user@host/x', 'authority'],
  ])('refuses %s', (input, reason) => {
    const result = normalizeTarget(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('returns plain paths unchanged (fast path)', () => {
    const path = '/api/v1/items/42';
    const result = normalizeTarget(path);
    expect(result).toEqual({ ok: true, path, query: '', authority: undefined });
  });
});
