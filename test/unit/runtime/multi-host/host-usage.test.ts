// Allocations and the host view from the replicas a host holds. Unit: pure.
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../../src/model/host.js';
import { allocationsOf, hostView } from '../../../../src/runtime/multi-host/host-usage.js';
import type { ReplicaObservation } from '../../../../src/runtime/runtime-driver.js';

const spec: HostSpec = { name: 'h1', dockerEndpoint: 'unix:///run/h1.sock', address: '10.0.0.5', capacity: { cpus: 2, memoryMb: 2048, maxReplicas: 8 }, labels: { zone: 'a' }, cordoned: false };

function obs(replicaId: string, service: string, extra: Partial<ReplicaObservation> = {}): ReplicaObservation {
  return { id: `h1/${replicaId}`, service, revision: 'rev1', replicaId, state: 'running', nativeId: replicaId, ...extra };
}

describe('allocationsOf', () => {
  it('counts live replicas with their resources, those without resources as reserving nothing, and skips exited ones', () => {
    expect(
      allocationsOf('h1', [
        obs('w1', 'web', { resources: { cpus: 0.5, memoryMb: 256 } }),
        obs('legacy', 'web'),
        obs('w2', 'web', { state: 'exited', resources: { cpus: 0.5, memoryMb: 256 } }),
        obs('w3', 'web', { state: 'stopping', resources: { cpus: 0.1, memoryMb: 64 } }),
      ]),
    ).toEqual([
      { service: 'web', replicaId: 'w1', host: 'h1', resources: { cpus: 0.5, memoryMb: 256 } },
      { service: 'web', replicaId: 'legacy', host: 'h1', resources: { cpus: 0, memoryMb: 0 } },
      { service: 'web', replicaId: 'w3', host: 'h1', resources: { cpus: 0.1, memoryMb: 64 } },
    ]);
  });
});

describe('hostView', () => {
  it('sums what is allocated exactly (0.1 + 0.2 cpus is 0.3), counts starts in progress, and lists replicas per service', () => {
    const view = hostView({
      spec,
      state: 'up',
      sinceMs: 1_000,
      lastSeenMs: 2_000,
      lastError: undefined,
      cordoned: true,
      replicas: [obs('w2', 'web', { resources: { cpus: 0.1, memoryMb: 100 } }), obs('a1', 'api', { revision: 'rev9', resources: { cpus: 0.2, memoryMb: 200 } }), obs('w1', 'web'), obs('w0', 'web', { state: 'exited' })],
      starting: [{ service: 'web', replicaId: 'w3', host: 'h1', resources: { cpus: 0.25, memoryMb: 64 } }],
    });
    expect(view).toEqual({
      name: 'h1',
      address: '10.0.0.5',
      dockerEndpoint: 'unix:///run/h1.sock',
      labels: { zone: 'a' },
      state: 'up',
      reachable: true,
      lost: false,
      sinceMs: 1_000,
      lastSeenMs: 2_000,
      lastError: undefined,
      cordoned: true,
      capacity: { cpus: 2, memoryMb: 2048, maxReplicas: 8 },
      allocated: { cpus: 0.55, memoryMb: 364, replicas: 4 },
      replicas: { web: ['w1', 'w2'], api: ['a1'] },
      placed: [
        { service: 'api', replicaId: 'a1', revision: 'rev9' },
        { service: 'web', replicaId: 'w1', revision: 'rev1' },
        { service: 'web', replicaId: 'w2', revision: 'rev1' },
      ],
    });
  });

  it('shows a lost host as neither reachable nor holding anything', () => {
    const view = hostView({ spec, state: 'lost', sinceMs: 5_000, lastSeenMs: 3_000, lastError: 'ping timed out after 1000 ms', cordoned: false, replicas: [], starting: [] });
    expect(view).toMatchObject({ state: 'lost', reachable: false, lost: true, lastError: 'ping timed out after 1000 ms', allocated: { cpus: 0, memoryMb: 0, replicas: 0 }, replicas: {}, placed: [] });
  });
});
