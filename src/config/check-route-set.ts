// Checks a whole set of individually valid routes: duplicate names and identical matches. Pure.
import type { ConfigProblem } from '../errors.js';
import type { RouteSpec } from '../model/route.js';

export interface RouteSource {
  readonly spec: RouteSpec;
  /** The file the route came from (or would be written to). */
  readonly file: string;
}

function normalizeHostPattern(host: string | undefined): string {
  if (host === undefined) return '';
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '/';
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

function headerConditions(headers: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(headers ?? {})
    .map(([name, value]) => `${name.toLowerCase()}: ${value}`)
    .sort();
}

/** Two routes with the same key match exactly the same requests, so one of them is dead. */
export function routeMatchKey(spec: RouteSpec): string {
  return JSON.stringify([
    normalizeHostPattern(spec.match.host),
    normalizePrefix(spec.match.pathPrefix),
    headerConditions(spec.match.headers),
  ]);
}

function describeMatch(spec: RouteSpec): string {
  const host = spec.match.host === undefined ? 'any host' : `host ${spec.match.host}`;
  const headers = headerConditions(spec.match.headers);
  const headerText = headers.length === 0 ? '' : `, headers ${headers.join(', ')}`;
  return `${host}, pathPrefix ${normalizePrefix(spec.match.pathPrefix)}${headerText}`;
}

function where(file: string, otherFile: string): string {
  return file === otherFile ? 'earlier in this file' : `in ${otherFile}`;
}

/**
 * Problems of the set as a whole, reported on the later of two clashing routes (in the order
 * given) and naming both routes and both files: duplicate names, and overlapping identical
 * matches (same host pattern, same path prefix ignoring a trailing slash, same header set).
 */
export function checkRouteSet(routes: readonly RouteSource[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byName = new Map<string, RouteSource>();
  const byMatch = new Map<string, RouteSource>();
  for (const route of routes) {
    const { spec, file } = route;
    const sameName = byName.get(spec.name);
    if (sameName !== undefined) {
      problems.push({
        file,
        path: '/name',
        message: `route name '${spec.name}' is already used ${where(file, sameName.file)}`,
      });
    } else {
      byName.set(spec.name, route);
    }

    const key = routeMatchKey(spec);
    const sameMatch = byMatch.get(key);
    if (sameMatch !== undefined) {
      problems.push({
        file,
        path: '/match',
        message:
          `route '${spec.name}' has the same match as route '${sameMatch.spec.name}' ` +
          `${where(file, sameMatch.file)} (${describeMatch(spec)}): one of them would never be used`,
      });
    } else {
      byMatch.set(key, route);
    }
  }
  return problems;
}
