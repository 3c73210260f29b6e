// Consul health JSON (fixtures written from Consul's documented shapes) to endpoints: good entries
// used, bad ones skipped and reported, a wrong whole answer refused. Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { originFor, translateHealth, type HealthTranslation } from '../../../../src/registry/consul/translate-health.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

function ok(result: HealthTranslation): Extract<HealthTranslation, { ok: true }> {
  if (!result.ok) throw new Error(`expected a usable answer, got: ${result.error}`);
  return result;
}

describe('translateHealth', () => {
  it('maps each passing instance to an endpoint: service address first, node address as fallback', () => {
    const result = ok(translateHealth('api', fixture('health-api-passing.json'), { tagPrefix: '' }));
    expect(result.endpoints).toEqual([
      { id: 'consul:node-a/api-1', origin: 'http://10.1.10.20:8000', weight: 5, revision: 'v2', source: 'consul', healthy: true, draining: false },
      { id: 'consul:node-b/api-2', origin: 'http://10.1.10.13:8001', weight: 1, revision: undefined, source: 'consul', healthy: true, draining: false },
    ]);
    expect(result.skipped).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('reads version and weight only from tags with the configured prefix, and brackets IPv6', () => {
    const result = ok(translateHealth('api', fixture('health-api-ipv6-prefixed.json'), { tagPrefix: 'dm-' }));
    expect(result.endpoints.map((e) => [e.id, e.origin, e.revision, e.weight])).toEqual([
      ['consul:node-v6/api-v6', 'http://[fd00::10]:9000', '2024.1', 0],
      ['consul:node-v6b/api-v6b', 'http://[2001:db8::1]:9001', undefined, 1000],
    ]);
  });

  it('skips each invalid entry with its reason and keeps the rest', () => {
    const result = ok(translateHealth('api', fixture('health-api-invalid-entries.json'), { tagPrefix: '' }));
    expect(result.endpoints.map((e) => e.id)).toEqual(['consul:node-a/good', 'consul:node-b/bad-weight', 'consul:node-b/weight-too-big', 'consul:node-c/unfiltered-critical']);
    expect(result.endpoints[0]).toMatchObject({ origin: 'http://10.0.0.1:8080', revision: 'v1' });
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.id, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [
        'consul:api[10]',
        'consul:api[9]',
        'consul:node-a/bad-address',
        'consul:node-a/bad-tags',
        'consul:node-a/good',
        'consul:node-a/no-address',
        'consul:node-a/other',
        'consul:node-a/port-string',
        'consul:node-a/port-too-big',
        'consul:node-a/port-zero',
      ].sort(),
    );
    expect(reasons['consul:node-a/no-address']).toMatch(/missing address/);
    expect(reasons['consul:node-a/port-zero']).toMatch(/port 0/);
    expect(reasons['consul:node-a/port-too-big']).toMatch(/port 70000/);
    expect(reasons['consul:node-a/good']).toBe('duplicate id');
    expect(reasons['consul:node-a/other']).toMatch(/service "web"/);
    expect(reasons['consul:node-a/bad-tags']).toMatch(/Tags/);
  });

  it('uses weight 1 for a weight tag that is not an integer 0..1000, and reports it', () => {
    const result = ok(translateHealth('api', fixture('health-api-invalid-entries.json'), { tagPrefix: '' }));
    const byId = new Map(result.endpoints.map((e) => [e.id, e]));
    expect(byId.get('consul:node-b/bad-weight')?.weight).toBe(1);
    expect(byId.get('consul:node-b/weight-too-big')?.weight).toBe(1);
    expect(result.warnings.map((w) => w.id)).toEqual(['consul:node-b/bad-weight', 'consul:node-b/weight-too-big']);
    expect(result.warnings[0]?.reason).toMatch(/weight=heavy/);
  });

  it('marks an instance with a failing check unhealthy even if the server ignored ?passing', () => {
    const result = ok(translateHealth('api', fixture('health-api-invalid-entries.json'), { tagPrefix: '' }));
    expect(result.endpoints.find((e) => e.id === 'consul:node-c/unfiltered-critical')?.healthy).toBe(false);
  });

  it("leaves out, without a report, the instances this dockmaster registered itself", () => {
    const entry = (id: string, instance: string | undefined): unknown => ({
      Node: { Node: 'n', Address: '127.0.0.1' },
      Service: { ID: id, Service: 'api', Port: 3000, Tags: [], Meta: instance === undefined ? null : { 'dockmaster-instance': instance } },
    });
    const body = [entry('mine', 'dm-a'), entry('theirs', 'dm-b'), entry('plain', undefined)];
    const own = ok(translateHealth('api', body, { tagPrefix: '', ownInstance: 'dm-a' }));
    expect(own.endpoints.map((e) => e.id)).toEqual(['consul:n/plain', 'consul:n/theirs']);
    expect(own.skipped).toEqual([]);
    expect(ok(translateHealth('api', body, { tagPrefix: '' })).endpoints).toHaveLength(3);
  });

  it('gives an empty set for a service with no passing instance', () => {
    expect(ok(translateHealth('api', fixture('health-empty.json'), { tagPrefix: '' })).endpoints).toEqual([]);
  });

  it.each([
    ['an object', fixture('health-not-array.json')],
    ['null', null],
    ['a string (an HTML page read as text)', '<html>500</html>'],
    ['an array holding a non-object', [1, 2]],
    ['an array holding null', [null]],
  ])('refuses a whole answer that is %s', (_what, body) => {
    const result = translateHealth('api', body, { tagPrefix: '' });
    expect(result.ok).toBe(false);
  });

  it('returns endpoints sorted by id whatever the answer order', () => {
    const entries = fixture('health-api-passing.json') as unknown[];
    const a = ok(translateHealth('api', entries, { tagPrefix: '' }));
    const b = ok(translateHealth('api', [...entries].reverse(), { tagPrefix: '' }));
    expect(b.endpoints).toEqual(a.endpoints);
  });
});

describe('originFor', () => {
  it.each([
    ['127.0.0.1', 80, 'http://127.0.0.1:80'],
    ['api.service.consul', 8080, 'http://api.service.consul:8080'],
    ['::1', 3000, 'http://[::1]:3000'],
    ['fe80::1%eth0', 3000, undefined],
    ['10.0.0.1/24', 3000, undefined],
    ['a b', 3000, undefined],
    ['user@host', 3000, undefined],
  ])('%s port %d -> %s', (address, port, origin) => {
    expect(originFor(address, port)).toBe(origin);
  });
});
