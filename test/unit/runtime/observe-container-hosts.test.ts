// The multi-host side of observe-container: generation and resources read from labels, origins
// on a host's address, loopback addresses. Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DOCKER_LABEL,
  isLoopbackAddress,
  observeContainerInspect,
  observeContainerSummary,
  originAt,
  type ContainerInspectLike,
  type ContainerSummaryLike,
} from '../../../src/runtime/docker/observe-container.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
const hostInspect = fixture<ContainerInspectLike>('docker-inspect-host.json');
const bridgeInspect = fixture<ContainerInspectLike>('docker-inspect-bridge.json');

function withLabels(info: ContainerInspectLike, labels: Record<string, string>): ContainerInspectLike {
  return { ...info, Config: { ...info.Config, Labels: { ...info.Config.Labels, ...labels } } };
}

describe('multi-host labels', () => {
  it('reads the generation and the reserved resources', () => {
    const observed = observeContainerInspect(withLabels(hostInspect, { [DOCKER_LABEL.generation]: '1750000000123', [DOCKER_LABEL.cpus]: '0.25', [DOCKER_LABEL.memoryMb]: '64' }));
    expect(observed).toMatchObject({ generation: 1_750_000_000_123, resources: { cpus: 0.25, memoryMb: 64 } });
  });

  it('leaves them out for containers started without them (single host, before several hosts)', () => {
    const observed = observeContainerInspect(hostInspect);
    expect(observed).toBeDefined();
    expect(Object.keys(observed ?? {})).not.toContain('generation');
    expect(Object.keys(observed ?? {})).not.toContain('resources');
  });

  it('ignores malformed values, and resources with only one of cpus and memory', () => {
    expect(observeContainerInspect(withLabels(hostInspect, { [DOCKER_LABEL.generation]: '-3', [DOCKER_LABEL.cpus]: 'lots', [DOCKER_LABEL.memoryMb]: '64' }))).not.toHaveProperty('generation');
    expect(observeContainerInspect(withLabels(hostInspect, { [DOCKER_LABEL.cpus]: '1' }))).not.toHaveProperty('resources');
  });

  it('reads the same from a list row', () => {
    const row: ContainerSummaryLike = {
      Id: 'abc',
      State: 'running',
      Status: 'Up 2 seconds',
      Labels: { 'dockmaster.service': 'web', 'dockmaster.revision': 'r1', 'dockmaster.replica': 'w1', 'dockmaster.port': '18001', 'dockmaster.network': 'host', [DOCKER_LABEL.generation]: '42', [DOCKER_LABEL.cpus]: '1', [DOCKER_LABEL.memoryMb]: '512' },
    };
    expect(observeContainerSummary(row, '10.0.0.7')).toMatchObject({ origin: 'http://10.0.0.7:18001', generation: 42, resources: { cpus: 1, memoryMb: 512 } });
  });
});

describe('origins on a host address', () => {
  it('puts host-network replicas on the address', () => {
    const port = new URL(observeContainerInspect(hostInspect)?.origin ?? '').port;
    expect(observeContainerInspect(hostInspect, '10.0.0.5')?.origin).toBe(`http://10.0.0.5:${port}`);
    expect(observeContainerInspect(hostInspect)?.origin).toBe(`http://127.0.0.1:${port}`);
  });

  it('keeps bridge replicas on their 127.0.0.1 binding (bridge publishes on loopback only)', () => {
    expect(observeContainerInspect(bridgeInspect, '10.0.0.5')?.origin).toBe('http://127.0.0.1:32769');
  });

  it('writes IPv6 addresses in brackets', () => {
    expect(originAt('fd00::5', 8080)).toBe('http://[fd00::5]:8080');
    expect(originAt(undefined, 8080)).toBe('http://127.0.0.1:8080');
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackAddress)).toEqual([true, true, true, true]);
    expect(['10.0.0.5', '128.0.0.1', 'docker-b.internal', '::'].map(isLoopbackAddress)).toEqual([false, false, false, false]);
  });
});
