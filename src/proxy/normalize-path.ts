// Request-target normalisation before routing: the path a route is matched on is exactly the
// path the upstream receives. Pure.

export type NormalizedTarget =
  | {
      readonly ok: true;
      /** Normalised path: starts with `/`, no dot segments, no empty segments. */
      readonly path: string;
      /** Query string including its `?`, or '' (passed through unchanged). */
      readonly query: string;
      /** Authority of an absolute-form target (`http://host/...`), which overrides Host. */
      readonly authority?: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 70) return code - 55; // A-F
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". Encoded forms are equivalent. */
function isUnreserved(code: number): boolean {
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 45 ||
    code === 46 ||
    code === 95 ||
    code === 126
  );
}

function fail(reason: string): NormalizedTarget {
  return { ok: false, reason };
}

/**
 * Normalises a request target the way a careful reverse proxy must, so that no request can
 * reach a route it does not match:
 * - percent-encoded unreserved characters are decoded (`/%61dmin` is `/admin`), other escapes
 *   are kept with upper-case hex; a malformed escape is refused;
 * - an encoded `/` or `\` (`%2F`, `%5C`), an encoded or raw NUL, a raw `\`, and a `#` are refused:
 *   upstreams disagree about what they mean;
 * - repeated slashes are merged and `.`/`..` segments resolved (RFC 3986 remove_dot_segments),
 *   including encoded ones (`%2e%2e`); a `..` above the root is refused.
 * The query string is not touched. Fast path: a target of plain safe characters with no dot
 * segment and no double slash is returned as is.
 */
export function normalizeTarget(target: string): NormalizedTarget {
  let authority: string | undefined;
  let rest = target;
  if (rest.charCodeAt(0) !== 47 /* / */) {
    const lower = rest.slice(0, 8).toLowerCase();
    const schemeLength = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : 0;
    if (schemeLength === 0) return fail('request target must start with "/"');
    const slash = rest.indexOf('/', schemeLength);
    const q = rest.indexOf('?', schemeLength);
    const end = slash === -1 ? (q === -1 ? rest.length : q) : q !== -1 && q < slash ? q : slash;
    authority = rest.slice(schemeLength, end);
    if (authority === '' || authority.includes('@')) return fail('invalid authority in request target');
    rest = end === rest.length ? '/' : rest[end] === '?' ? `/${rest.slice(end)}` : rest.slice(end);
  }

  const queryAt = rest.indexOf('?');
  const rawPath = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rest.slice(queryAt);
  if (query.includes('#') || query.includes('\0')) return fail('invalid character in query');

  // Fast path: nothing that could need rewriting.
  let needsWork = false;
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */ || c === 35 /* # */ || c === 0) {
      needsWork = true;
      break;
    }
    if (c === 47 /* / */ && i > 0) {
      const prev = rawPath.charCodeAt(i - 1);
      if (prev === 47) {
        needsWork = true;
        break;
      }
    }
    if (c === 46 /* . */) {
      const prev = rawPath.charCodeAt(i - 1);
      if (prev === 47 || prev === 46) {
        needsWork = true;
        break;
      }
    }
  }
  if (!needsWork) return { ok: true, path: rawPath, query, authority };

  // Decode unreserved escapes, refuse the dangerous ones, and split into segments.
  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 0) return fail('NUL byte in path');
    if (c === 92) return fail('backslash in path');
    if (c === 35) return fail('fragment in request target');
    if (c !== 37) {
      decoded += rawPath[i];
      continue;
    }
    const hi = hexValue(rawPath.charCodeAt(i + 1));
    const lo = hexValue(rawPath.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return fail('malformed percent-encoding in path');
    const byte = hi * 16 + lo;
    if (byte === 0) return fail('encoded NUL in path');
    if (byte === 0x2f) return fail('encoded "/" in path');
    if (byte === 0x5c) return fail('encoded "\\" in path');
    decoded += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
    i += 2;
  }

  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '.' || (segment === '' && !last)) continue;
    if (segment === '..') {
      if (out.length === 0) return fail('path escapes the root with ".."');
      out.pop();
      continue;
    }
    out.push(segment);
  }
  // A trailing dot segment leaves a directory path: `/a/b/..` is `/a/`.
  const lastSegment = segments[segments.length - 1];
  const trailingSlash = (lastSegment === '.' || lastSegment === '..') && out.length > 0 && out[out.length - 1] !== '';
  const path = `/${out.join('/')}${trailingSlash ? '/' : ''}`;
  return { ok: true, path, query, authority };
}
