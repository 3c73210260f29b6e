// Docker resource limits (HostConfig.NanoCpus, HostConfig.Memory) for what a replica reserves. Pure.
import type { ReplicaResources } from '../../model/host.js';

export interface DockerLimits {
  /** Cores times 1e9 (Docker's `--cpus`). */
  readonly NanoCpus?: number;
  /** Bytes (Docker's `--memory`). */
  readonly Memory?: number;
}

/** `{ cpus: 0.5, memoryMb: 64 }` -> `{ NanoCpus: 500000000, Memory: 67108864 }`. A zero amount sets
 * no limit (Docker's own meaning of 0); no resources, no limits. */
export function dockerLimits(resources: ReplicaResources | undefined): DockerLimits {
  if (resources === undefined) return {};
  const nanoCpus = Math.round(resources.cpus * 1e9);
  const memoryBytes = Math.round(resources.memoryMb * 1024 * 1024);
  return { ...(nanoCpus > 0 ? { NanoCpus: nanoCpus } : {}), ...(memoryBytes > 0 ? { Memory: memoryBytes } : {}) };
}
