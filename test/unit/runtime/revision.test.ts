// templateRevision (and the version a replicaTemplate carries into it): stable, key-order
// independent, sensitive to what runs. Unit: pure.
import { describe, expect, it } from 'vitest';
import { replicaTemplate } from '../../../src/deploy/replica-template.js';
import { DEFAULT_DEPLOY_POLICY } from '../../../src/model/deploy.js';
import { SERVICE_DEFAULTS, type ServiceSpec } from '../../../src/model/service.js';
import { canonicalJson, templateRevision } from '../../../src/runtime/revision.js';
import type { ReplicaTemplate } from '../../../src/runtime/runtime-driver.js';

const base: Omit<ReplicaTemplate, 'revision'> = {
  service: 'web',
  runtime: { kind: 'process', command: ['node', 'app.mjs'], cwd: '/srv' },
  port: 8080,
  env: { A: '1', B: '2' },
  stopGraceMs: 5_000,
};

describe('templateRevision', () => {
  it('is 10 lower-case hex characters', () => {
    expect(templateRevision(base)).toMatch(/^[0-9a-f]{10}$/);
  });

  it('gives the same revision for the same spec, whatever the key order', () => {
    const reordered = {
      env: { B: '2', A: '1' },
      port: 8080,
      stopGraceMs: 5_000,
      runtime: { cwd: '/srv', command: ['node', 'app.mjs'], kind: 'process' as const },
      service: 'web',
    };
    expect(templateRevision(reordered)).toBe(templateRevision(base));
  });

  it('is stable across releases: a known spec keeps its known revision', () => {
    // Changing this value re-rolls every running service on upgrade: only on purpose. Derived by
    // hand: printf '%s' '{"env":{},"port":0,"runtime":{"command":["node","a.mjs"],"kind":"process"}}' | sha256sum
    expect(templateRevision({ runtime: { kind: 'process', command: ['node', 'a.mjs'] }, env: {}, port: 0 })).toBe('f752134099');
  });

  it.each([
    ['the command', { ...base, runtime: { kind: 'process' as const, command: ['node', 'other.mjs'], cwd: '/srv' } }],
    ['the argument order', { ...base, runtime: { kind: 'process' as const, command: ['app.mjs', 'node'], cwd: '/srv' } }],
    ['the working directory', { ...base, runtime: { kind: 'process' as const, command: ['node', 'app.mjs'], cwd: '/opt' } }],
    ['an env value', { ...base, env: { A: '1', B: '3' } }],
    ['an added env key', { ...base, env: { A: '1', B: '2', C: '' } }],
    ['the port', { ...base, port: 8081 }],
    ['the runtime kind', { ...base, runtime: { kind: 'docker' as const, image: 'node', network: 'host' as const, pull: 'never' as const } }],
  ])('changes when %s changes', (_what, changed) => {
    expect(templateRevision(changed)).not.toBe(templateRevision(base));
  });

  it.each([
    ['the service name', { ...base, service: 'api' }],
    ['the stop grace period', { ...base, stopGraceMs: 1 }],
  ])('does not change with %s', (_what, same) => {
    expect(templateRevision(same)).toBe(templateRevision(base));
  });

  it('changes with the version label, and with adding one', () => {
    const v1 = templateRevision({ ...base, version: '1.4.2' });
    expect(v1).not.toBe(templateRevision(base));
    expect(v1).not.toBe(templateRevision({ ...base, version: '1.4.3' }));
    expect(v1).toBe(templateRevision({ ...base, version: '1.4.2' }));
  });

  it('keeps the revision of a template without a version: a missing version and an undefined one hash as before', () => {
    expect(templateRevision({ runtime: { kind: 'process', command: ['node', 'a.mjs'] }, env: {}, port: 0, version: undefined })).toBe('f752134099');
    expect(templateRevision({ ...base, version: undefined })).toBe(templateRevision(base));
  });

  it('treats a missing cwd and an undefined one alike', () => {
    const a = { ...base, runtime: { kind: 'process' as const, command: ['x'] } };
    const b = { ...base, runtime: { kind: 'process' as const, command: ['x'], cwd: undefined } };
    expect(templateRevision(a)).toBe(templateRevision(b));
  });

  it('changes with the docker network but not the pull policy', () => {
    const docker = (network: 'host' | 'bridge', pull: 'never' | 'always') => ({ ...base, runtime: { kind: 'docker' as const, image: 'demo:1', network, pull } });
    expect(templateRevision(docker('host', 'never'))).not.toBe(templateRevision(docker('bridge', 'never')));
    expect(templateRevision(docker('host', 'never'))).toBe(templateRevision(docker('host', 'always')));
  });
});

describe('replicaTemplate: the version label', () => {
  const spec: ServiceSpec = {
    kind: 'Service',
    name: 'web',
    runtime: { type: 'process', command: ['node', 'app.mjs'] },
    port: 8080,
    env: {},
    replicas: 1,
    health: SERVICE_DEFAULTS.health,
    stopGraceMs: 5_000,
    drainTimeoutMs: 30_000,
  };

  it("carries the service's version into the template and its revision", () => {
    const plain = replicaTemplate(spec, '/srv');
    const versioned = replicaTemplate({ ...spec, version: '1.4.2' }, '/srv');
    expect(versioned.version).toBe('1.4.2');
    expect(versioned.revision).toBe(templateRevision(versioned));
    expect(versioned.revision).not.toBe(plain.revision);
    expect('version' in plain).toBe(false);
  });

  it('gives a service without a version the revision it had before versions existed', () => {
    const template = replicaTemplate(spec, '/srv');
    expect(template.revision).toBe(templateRevision({ runtime: template.runtime, env: template.env, port: template.port }));
  });

  it('does not change the revision when only the deploy policy changes', () => {
    const template = replicaTemplate(spec, '/srv');
    expect(replicaTemplate({ ...spec, deploy: { ...DEFAULT_DEPLOY_POLICY, strategy: 'canary' } }, '/srv').revision).toBe(template.revision);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order, drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
