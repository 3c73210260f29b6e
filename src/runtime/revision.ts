// The revision of a replica template: a stable short hash of what the replica runs. Pure.
import { createHash } from 'node:crypto';
import type { ReplicaTemplate } from './runtime-driver.js';

/** What a revision covers; a whole template (with or without `revision`) also fits. */
export type RevisionInput = Pick<ReplicaTemplate, 'runtime' | 'env' | 'port' | 'version' | 'resources'>;

/** Hex characters kept from the sha256 digest. */
export const REVISION_LENGTH_CHARS = 10;

/**
 * sha256 of the canonical JSON of runtime (command and cwd, or image and network), env, port,
 * version and resources, first 10 hex chars. Key order and undefined fields do not matter, so the
 * same spec always gives the same revision; a template without a version or resources hashes
 * exactly as before those existed, so upgrading does not re-roll running services (persisted
 * rollout state holds these hashes). Resources are limits the container runs with, so changing
 * them rolls replicas. Left out on purpose, since changing them must not roll replicas: the
 * service name, stopGraceMs, the image pull policy (how the image is fetched, not what runs) and
 * placement (where replicas go: new ones follow it, running ones stay).
 */
export function templateRevision(input: RevisionInput): string {
  const runtime =
    input.runtime.kind === 'process'
      ? { kind: 'process', command: input.runtime.command, cwd: input.runtime.cwd }
      : { kind: 'docker', image: input.runtime.image, network: input.runtime.network };
  // canonicalJson drops an undefined version or resources: no key, the same hash as before.
  const resources = input.resources === undefined ? undefined : { cpus: input.resources.cpus, memoryMb: input.resources.memoryMb };
  const canonical = canonicalJson({ runtime, env: input.env, port: input.port, version: input.version, resources });
  return createHash('sha256').update(canonical).digest('hex').slice(0, REVISION_LENGTH_CHARS);
}

/** JSON with object keys sorted at every depth and undefined members dropped; arrays keep order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
