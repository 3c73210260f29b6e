// Qualified observation ids (`<host>/<container id>`) and start generations. Unit: pure.
import { describe, expect, it } from 'vitest';
import { nextGeneration } from '../../../../src/runtime/multi-host/generation.js';
import { parseQualifiedId, qualifiedId } from '../../../../src/runtime/multi-host/qualified-id.js';

describe('qualified ids', () => {
  it('round-trips a host and a container id', () => {
    const id = qualifiedId('zone-a.1', '3f2a9c');
    expect(id).toBe('zone-a.1/3f2a9c');
    expect(parseQualifiedId(id)).toEqual({ host: 'zone-a.1', innerId: '3f2a9c' });
  });

  for (const bad of ['3f2a9c', '/3f2a9c', 'h1/', '']) {
    it(`is undefined for ${JSON.stringify(bad)} (not a multi-host id)`, () => {
      expect(parseQualifiedId(bad)).toBeUndefined();
    });
  }
});

describe('nextGeneration', () => {
  it('follows the clock, so a later dockmaster outranks an earlier one', () => {
    expect(nextGeneration(0, 1_750_000_000_000)).toBe(1_750_000_000_000);
    expect(nextGeneration(1_750_000_000_000, 1_750_000_000_500)).toBe(1_750_000_000_500);
  });

  it('still grows when starts come faster than the clock, or the clock steps back', () => {
    expect(nextGeneration(1_750_000_000_000, 1_750_000_000_000)).toBe(1_750_000_000_001);
    expect(nextGeneration(1_750_000_000_000, 1_600_000_000_000)).toBe(1_750_000_000_001);
  });

  it('gives whole numbers (a label value of digits)', () => {
    expect(nextGeneration(0, 1_750_000_000_000.7)).toBe(1_750_000_000_000);
  });
});
