// Turns a validated service spec into the runtime's replica template, with its revision hash.
// Pure.
import { isAbsolute, resolve } from 'node:path';
import type { ServiceSpec } from '../model/service.js';
import type { ReplicaTemplate, RuntimeSpec } from '../runtime/runtime-driver.js';
import { templateRevision } from '../runtime/revision.js';

/** `configDir` anchors a relative `cwd` of process replicas (default: the config folder). */
export function replicaTemplate(spec: ServiceSpec, configDir: string): ReplicaTemplate {
  const runtime: RuntimeSpec =
    spec.runtime.type === 'process'
      ? {
          kind: 'process',
          command: spec.runtime.command,
          cwd: spec.runtime.cwd === undefined ? configDir : isAbsolute(spec.runtime.cwd) ? spec.runtime.cwd : resolve(configDir, spec.runtime.cwd),
        }
      : { kind: 'docker', image: spec.runtime.image, network: spec.runtime.network, pull: spec.runtime.pull };
  const revision = templateRevision({ runtime, env: spec.env, port: spec.port, version: spec.version, resources: spec.resources });
  return {
    service: spec.name,
    revision,
    runtime,
    port: spec.port,
    env: spec.env,
    stopGraceMs: spec.stopGraceMs,
    ...(spec.version === undefined ? {} : { version: spec.version }),
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
    ...(spec.placement === undefined ? {} : { placement: spec.placement }),
  };
}
