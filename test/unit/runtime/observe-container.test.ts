// Docker JSON to ReplicaObservation, from recorded daemon output (fixtures/). Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  containerName,
  exitCodeFromStatusText,
  healthFromStatusText,
  interpretContainerEvent,
  observeContainerInspect,
  observeContainerSummary,
  replicaStateOf,
  type ContainerInspectLike,
  type ContainerSummaryLike,
  type DockerEventLike,
} from '../../../src/runtime/docker/observe-container.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
const inspect = (name: string): ContainerInspectLike => fixture<ContainerInspectLike>(`docker-inspect-${name}.json`);
const rows = fixture<Array<ContainerSummaryLike & { Names: string[] }>>('docker-list.json');
const row = (name: string): ContainerSummaryLike => {
  const found = rows.find((r) => r.Names.includes(`/dm-fx-${name}`));
  if (!found) throw new Error(`no row ${name}`);
  return found;
};
const events = readFileSync(new URL('./fixtures/docker-events.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l)
  .map((l) => JSON.parse(l) as DockerEventLike);

describe('observeContainerInspect', () => {
  it('maps a running host-network container: origin from the port label, start time, health', () => {
    const info = inspect('host');
    expect(observeContainerInspect(info)).toEqual({
      id: info.Id,
      service: 'web',
      revision: 'a1b2c3d4e5',
      replicaId: 'r1',
      state: 'running',
      origin: 'http://127.0.0.1:18501',
      exitCode: undefined,
      startedAtMs: Date.parse('2026-11-24T20:22:07.31394329Z'),
      runtimeHealth: 'healthy',
      nativeId: info.Id,
    });
  });

  it('maps a bridge container to its 127.0.0.1 published port', () => {
    expect(observeContainerInspect(inspect('bridge'))).toMatchObject({ state: 'running', origin: 'http://127.0.0.1:32769', replicaId: 'r2', runtimeHealth: undefined });
  });

  it('maps a killed container to exited with code 137 and no origin', () => {
    expect(observeContainerInspect(inspect('killed'))).toMatchObject({ state: 'exited', exitCode: 137, origin: undefined, revision: '0f0f0f0f0f' });
  });

  it('maps an unhealthy container', () => {
    expect(observeContainerInspect(inspect('unhealthy'))).toMatchObject({ service: 'api', state: 'running', runtimeHealth: 'unhealthy' });
  });

  it('maps a created, never started container to starting without a start time', () => {
    expect(observeContainerInspect(inspect('created'))).toMatchObject({ state: 'starting', startedAtMs: undefined, origin: 'http://127.0.0.1:18504' });
  });

  it('ignores a container without dockmaster labels', () => {
    const info = inspect('host');
    expect(observeContainerInspect({ ...info, Config: { Labels: { 'other.label': 'x' } } })).toBeUndefined();
  });

  it('never uses a bridge binding on an address other than 127.0.0.1', () => {
    const info = inspect('bridge');
    const exposed = { ...info, NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '32769' }] } } };
    expect(observeContainerInspect(exposed)?.origin).toBeUndefined();
  });
});

describe('observeContainerSummary', () => {
  it.each([
    ['host', { state: 'running', origin: 'http://127.0.0.1:18501', runtimeHealth: 'healthy', replicaId: 'r1' }],
    ['bridge', { state: 'running', origin: 'http://127.0.0.1:32769', runtimeHealth: undefined }],
    ['killed', { state: 'exited', exitCode: 137, origin: undefined }],
    ['unhealthy', { state: 'running', runtimeHealth: 'unhealthy' }],
    ['created', { state: 'starting', exitCode: undefined }],
  ])('maps the %s row like inspect does (less the start time)', (name, expected) => {
    const fromRow = observeContainerSummary(row(name));
    expect(fromRow).toMatchObject(expected);
    const fromInspect = observeContainerInspect(inspect(name));
    expect({ ...fromRow, startedAtMs: undefined }).toEqual({ ...fromInspect, startedAtMs: undefined });
  });
});

describe('status text and states', () => {
  it.each([
    ['Up 3 seconds (healthy)', 'healthy'],
    ['Up 3 seconds (unhealthy)', 'unhealthy'],
    ['Up 1 second (health: starting)', 'starting'],
    ['Up 3 seconds', undefined],
  ])('reads health from %j', (text, health) => {
    expect(healthFromStatusText(text)).toBe(health);
  });

  it.each([
    ['Exited (137) 5 seconds ago', 137],
    ['Exited (0) About a minute ago', 0],
    ['Up 3 seconds', undefined],
  ])('reads the exit code from %j', (text, code) => {
    expect(exitCodeFromStatusText(text)).toBe(code);
  });

  it.each([
    ['created', 'starting'],
    ['restarting', 'starting'],
    ['running', 'running'],
    ['paused', 'running'],
    ['removing', 'stopping'],
    ['exited', 'exited'],
    ['dead', 'exited'],
  ])('maps Docker state %s to %s', (docker, ours) => {
    expect(replicaStateOf(docker)).toBe(ours);
  });
});

describe('interpretContainerEvent', () => {
  it('reads the recorded event stream', () => {
    const meanings = events.map(interpretContainerEvent).map((m) => (m.kind === 'other' ? 'other' : `${m.kind}:${m.ref.replicaId}`));
    expect(meanings).toEqual([
      'other', 'other', 'other', 'other', 'other', // create
      'start:r1', 'start:r2', 'start:r3', 'start:r1', // host, bridge, killed, unhealthy (api/r1)
      'health:r1', 'other', 'die:r3', 'health:r1', // healthy, kill, die, unhealthy
    ]);
  });

  it('carries the exit code of a die and the health of a health_status', () => {
    const die = events.find((e) => e.Action === 'die');
    expect(die && interpretContainerEvent(die)).toMatchObject({ kind: 'die', exitCode: 137, ref: { service: 'web', revision: '0f0f0f0f0f' } });
    const unhealthy = events.find((e) => e.Action === 'health_status: unhealthy');
    expect(unhealthy && interpretContainerEvent(unhealthy)).toMatchObject({ kind: 'health', health: 'unhealthy', ref: { service: 'api' } });
  });

  it('ignores non-container events and containers without labels', () => {
    expect(interpretContainerEvent({ Type: 'network', Action: 'connect', timeNano: 5 })).toEqual({ kind: 'other', timeNano: 5 });
    expect(interpretContainerEvent({ Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: { name: 'x' } }, time: 2 })).toEqual({ kind: 'other', timeNano: 2e9 });
  });
});

describe('containerName', () => {
  it('joins service and replica id and replaces characters Docker refuses', () => {
    expect(containerName('web', 'r1')).toBe('dockmaster-web-r1');
    expect(containerName('web/api', 'a b:c')).toBe('dockmaster-web_api-a_b_c');
  });
});
