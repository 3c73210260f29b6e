// Maps what the process driver knows about a child process to a ReplicaObservation. Pure.
import { constants } from 'node:os';
import { loopbackOrigin } from '../replica-env.js';
import type { ReplicaObservation, ReplicaState } from '../runtime-driver.js';

/** The process driver's record of one replica. */
export interface ProcessRecord {
  readonly id: string;
  readonly service: string;
  readonly revision: string;
  readonly replicaId: string;
  readonly state: ReplicaState;
  /** Undefined until spawned. */
  readonly pid: number | undefined;
  /** Undefined until a port is assigned. */
  readonly port: number | undefined;
  readonly startedAtMs: number | undefined;
  /** Node's exit data: code when it exited, signal when a signal ended it. */
  readonly exit?: { readonly code: number | null; readonly signal: string | null } | undefined;
}

/** Replica handle of the process driver: one live replica per service and replica id. */
export function processReplicaHandle(service: string, replicaId: string): string {
  return `${service}.${replicaId}`;
}

/** Exit status as a shell and Docker report it: the code, or 128 + signal number. */
export function exitCodeOf(code: number | null, signal: string | null): number | undefined {
  if (code !== null) return code;
  if (signal === null) return undefined;
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? undefined : 128 + number;
}

export function observeProcess(record: ProcessRecord): ReplicaObservation {
  return {
    id: record.id,
    service: record.service,
    revision: record.revision,
    replicaId: record.replicaId,
    state: record.state,
    origin: record.port === undefined ? undefined : loopbackOrigin(record.port),
    exitCode: record.exit ? exitCodeOf(record.exit.code, record.exit.signal) : undefined,
    signal: record.exit?.signal ?? undefined,
    startedAtMs: record.startedAtMs,
    runtimeHealth: undefined,
    nativeId: record.pid === undefined ? '' : String(record.pid),
  };
}
