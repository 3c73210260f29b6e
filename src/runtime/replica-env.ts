// The environment a replica receives, and its origin URL. Pure.
import { REPLICA_ENV, type ReplicaTemplate } from './runtime-driver.js';

/** Template env plus the variables every replica gets (these win over the template's), and
 * DOCKMASTER_VERSION when the template has a version. */
export function replicaEnv(template: ReplicaTemplate, replicaId: string, port: number): Record<string, string> {
  return {
    ...template.env,
    [REPLICA_ENV.port]: String(port),
    [REPLICA_ENV.service]: template.service,
    [REPLICA_ENV.revision]: template.revision,
    [REPLICA_ENV.replica]: replicaId,
    ...(template.version === undefined ? {} : { [REPLICA_ENV.version]: template.version }),
  };
}

/** Loopback origin of a replica port: everything dockmaster talks to is on 127.0.0.1. */
export function loopbackOrigin(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** `KEY=value` list (Docker's Env format) from a record, in key order for stable output. */
export function envList(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((key) => `${key}=${env[key] ?? ''}`);
}
