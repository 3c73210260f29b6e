// Resources in the revision: part of it only when set, so every template written before resources
// existed keeps its hash (persisted rollout state and revision history hold these). Unit: pure.
import { describe, expect, it } from 'vitest';
import { templateRevision, type RevisionInput } from '../../../src/runtime/revision.js';

const docker = { kind: 'docker', image: 'dockmaster-demo:latest', network: 'host', pull: 'if-missing' } as const;

describe('templateRevision with resources', () => {
  // Computed with the revision code as it was before resources existed (commit 301c494).
  const before: { name: string; input: RevisionInput; hash: string }[] = [
    { name: 'a docker template with env', input: { runtime: docker, env: { A: '1' }, port: 8080 }, hash: '8306a7ef57' },
    { name: 'a docker template with a version', input: { runtime: docker, env: {}, port: 8080, version: '1.4.2' }, hash: 'd4b1b4fc30' },
    { name: 'a process template with a cwd', input: { runtime: { kind: 'process', command: ['node', 'src/demo/demo-app.mjs'], cwd: '/srv' }, env: { X: 'y' }, port: 0 }, hash: 'effba3e4e1' },
    { name: 'a minimal process template', input: { runtime: { kind: 'process', command: ['node', 'a.mjs'] }, env: {}, port: 0 }, hash: 'f752134099' },
  ];
  for (const c of before) {
    it(`leaves the hash of ${c.name} without resources exactly as before`, () => {
      expect(templateRevision(c.input)).toBe(c.hash);
      expect(templateRevision({ ...c.input, resources: undefined })).toBe(c.hash);
    });
  }

  it('changes the revision when resources are set, and again when they change', () => {
    const base: RevisionInput = { runtime: docker, env: { A: '1' }, port: 8080 };
    const small = templateRevision({ ...base, resources: { cpus: 0.25, memoryMb: 64 } });
    const bigger = templateRevision({ ...base, resources: { cpus: 0.5, memoryMb: 64 } });
    expect(small).not.toBe('8306a7ef57');
    expect(bigger).not.toBe(small);
    expect(templateRevision({ ...base, resources: { memoryMb: 64, cpus: 0.25 } })).toBe(small);
  });

  it('leaves placement out: it says where replicas go, not what runs', () => {
    const base = { runtime: docker, env: { A: '1' }, port: 8080 };
    const placed = { ...base, placement: { constraints: [{ label: 'zone', op: 'in' as const, values: ['a'] }], spread: 'zone' } };
    expect(templateRevision(placed)).toBe('8306a7ef57');
  });
});
