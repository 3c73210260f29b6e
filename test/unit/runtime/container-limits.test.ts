// dockerLimits: a replica's resources as Docker's NanoCpus and Memory. Unit: pure.
import { describe, expect, it } from 'vitest';
import { dockerLimits } from '../../../src/runtime/docker/container-limits.js';

describe('dockerLimits', () => {
  const cases: { name: string; resources: Parameters<typeof dockerLimits>[0]; expected: ReturnType<typeof dockerLimits> }[] = [
    { name: 'half a core and 64 MB', resources: { cpus: 0.5, memoryMb: 64 }, expected: { NanoCpus: 500_000_000, Memory: 67_108_864 } },
    { name: 'a thousandth of a core, exactly', resources: { cpus: 0.001, memoryMb: 512 }, expected: { NanoCpus: 1_000_000, Memory: 536_870_912 } },
    { name: '0.1 + 0.2 cores without float noise', resources: { cpus: 0.1 + 0.2, memoryMb: 1 }, expected: { NanoCpus: 300_000_000, Memory: 1_048_576 } },
    { name: 'zero amounts set no limit', resources: { cpus: 0, memoryMb: 0 }, expected: {} },
    { name: 'only memory', resources: { cpus: 0, memoryMb: 128 }, expected: { Memory: 134_217_728 } },
    { name: 'no resources, no limits', resources: undefined, expected: {} },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(dockerLimits(c.resources)).toEqual(c.expected);
    });
  }
});
