// Which peers may extend X-Forwarded-* instead of having them replaced: exact IPs and IPv4/IPv6
// CIDR blocks. Pure.
import { isIPv4, isIPv6 } from 'node:net';

export type PeerMatcher = (address: string) => boolean;

function ipv4ToInt(address: string): number {
  const parts = address.split('.');
  return parts.reduce((acc, part) => acc * 256 + Number(part), 0);
}

function expandIpv6(address: string): bigint {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headParts = head ? head.split(':').filter((p) => p !== '') : [];
  const tailParts = tail ? tail.split(':').filter((p) => p !== '') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...(tail !== undefined ? new Array<string>(missing).fill('0') : []), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) + BigInt(parseInt(part, 16)), 0n);
}

/** Strips the IPv4-mapped prefix Node reports for IPv4 peers on a dual-stack socket. */
export function canonicalAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * Builds a matcher from entries like `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`. Throws an
 * Error naming the bad entry.
 */
export function parseTrustedProxies(entries: readonly string[]): PeerMatcher {
  const v4: Array<{ base: number; mask: number }> = [];
  const v6: Array<{ base: bigint; mask: bigint }> = [];
  for (const entry of entries) {
    const [ip, bitsText] = entry.split('/');
    if (ip === undefined) throw new Error(`trusted proxy '${entry}' is not an IP or CIDR`);
    if (isIPv4(ip)) {
      const bits = bitsText === undefined ? 32 : Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`trusted proxy '${entry}' has a bad prefix length`);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      v4.push({ base: (ipv4ToInt(ip) & mask) >>> 0, mask });
    } else if (isIPv6(ip)) {
      const bits = bitsText === undefined ? 128 : Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > 128) throw new Error(`trusted proxy '${entry}' has a bad prefix length`);
      const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
      v6.push({ base: expandIpv6(ip) & mask, mask });
    } else {
      throw new Error(`trusted proxy '${entry}' is not an IP or CIDR`);
    }
  }
  if (v4.length === 0 && v6.length === 0) return () => false;
  return (raw: string) => {
    const address = canonicalAddress(raw);
    if (isIPv4(address)) {
      const value = ipv4ToInt(address);
      return v4.some((r) => ((value & r.mask) >>> 0) === r.base);
    }
    if (isIPv6(address)) {
      const value = expandIpv6(address);
      return v6.some((r) => (value & r.mask) === r.base);
    }
    return false;
  };
}
