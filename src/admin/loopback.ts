// Decides whether a host name or address is loopback, for the admin bind guard and Host check. Pure.
import { DockmasterError } from '../errors.js';

/**
 * True only for names that cannot reach beyond this machine: `localhost`, 127.0.0.0/8, `::1`
 * and IPv4-mapped 127.0.0.0/8. Errs on the side of "no": shorthand forms such as `127.1`,
 * `0x7f.1` or `foo.localhost` are loopback to some resolvers but are refused here, because
 * refusing a safe bind costs a flag while accepting an unsafe one exposes the admin API.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === 'localhost') return true;
  const octets = parseIpv4(name);
  if (octets !== undefined) return octets[0] === 127;
  if (!name.includes(':')) return false;
  const canonical = canonicalIpv6(name);
  if (canonical === undefined) return false;
  // `::ffff:7fXX:XXXX` is 127.X.X.X mapped into IPv6.
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

/** The host part of a Host header (`[::1]:9090` -> `::1`, `localhost:9090` -> `localhost`). */
export function hostFromHostHeader(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.indexOf(':');
  // More than one colon without brackets is not a valid Host; leave it whole so it fails checks.
  if (colon === -1 || value.indexOf(':', colon + 1) !== -1) return value;
  return value.slice(0, colon);
}

/**
 * Throws DM_ERR_ADMIN_UNSAFE_BIND when the admin API would listen beyond loopback without a
 * token: anyone who can reach the port could then rewrite routes.
 */
export function assertSafeAdminBind(host: string, hasToken: boolean): void {
  if (hasToken || isLoopbackHost(host)) return;
  throw new DockmasterError(
    'DM_ERR_ADMIN_UNSAFE_BIND',
    `refusing to bind the admin API to '${host}' without a token: set DOCKMASTER_TOKEN or --token-file, or bind to 127.0.0.1`,
    { host },
  );
}

function parseIpv4(name: string): readonly [number, number, number, number] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  if (match === null) return undefined;
  const octets = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])] as const;
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** WHATWG URL parsing canonicalises IPv6 (`0:0:0:0:0:0:0:1` -> `::1`); undefined if invalid. */
function canonicalIpv6(name: string): string | undefined {
  try {
    const hostname = new URL(`http://[${name}]/`).hostname;
    return hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}
