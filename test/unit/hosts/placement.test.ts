import { describe, expect, it } from 'vitest';
import type { Allocation, HostSpec, PlacementConstraint, ServiceDemand } from '../../../src/model/host.js';
import { placeReplica } from '../../../src/hosts/placement.js';
import { placeReplicas } from '../../../src/hosts/placement-sequence.js';
import { describeConstraint } from '../../../src/hosts/placement-constraints.js';
import { PlacementInputError, placementProblems } from '../../../src/hosts/placement-problems.js';
import { alloc, exampleCluster, host, pick, prng, service, shuffled, web } from './fixtures.js';

function placedOn(result: ReturnType<typeof placeReplica>): string {
  if (!result.ok) throw new Error(`expected a host, got: ${result.reason}`);
  return result.host.name;
}

function reasonOf(result: ReturnType<typeof placeReplica>): string {
  if (result.ok) throw new Error(`expected no host, got ${result.host.name}`);
  return result.reason;
}

describe('placeReplica: the worked examples of its doc comment', () => {
  const zoneB: PlacementConstraint = { label: 'zone', op: 'in', values: ['b'] };
  const cases: { name: string; service: ServiceDemand; allocations: (hosts: HostSpec[]) => Allocation[]; hosts?: () => HostSpec[]; expected: string }[] = [
    { name: 'with nothing placed, zones tie and the host keeping the largest free share wins (h2)', service: web, allocations: () => [], expected: 'h2' },
    { name: 'with web on h2, the emptier zone wins over free capacity (h3)', service: web, allocations: () => [alloc(web, 'h2')], expected: 'h3' },
    { name: 'with web on h2 and h3, zones and free shares tie and the host without web wins (h1)', service: web, allocations: () => [alloc(web, 'h2'), alloc(web, 'h3')], expected: 'h1' },
    { name: 'a constraint zone=b leaves h3, since h4 is cordoned', service: service('web', web.resources, [zoneB], 'zone'), allocations: () => [], expected: 'h3' },
    {
      name: 'a host without room for cpus and memory is out; zones tie and h2 keeps more free than h3',
      service: web,
      allocations: () => [alloc(web, 'h2'), alloc(web, 'h3'), alloc('db', 'h1', { cpus: 1.75, memoryMb: 3840 })],
      expected: 'h2',
    },
    {
      name: 'a full zone b sends the replica to zone a, on the host without web (h1)',
      service: web,
      hosts: () => exampleCluster().map((h) => (h.name === 'h3' ? host('h3', 2, 4096, { zone: 'b' }, { maxReplicas: 2 }) : h)),
      allocations: () => [alloc(web, 'h2'), alloc('cache', 'h3'), alloc('cache', 'h3')],
      expected: 'h1',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = c.hosts?.() ?? exampleCluster();
      expect(placedOn(placeReplica(c.service, hosts, c.allocations(hosts)))).toBe(c.expected);
    });
  }

  it('names what excludes each host when none has the label a constraint asks for', () => {
    const result = placeReplica(service('web', web.resources, [{ label: 'ssd', op: 'exists' }]), exampleCluster(), []);
    expect(reasonOf(result)).toBe(
      'no host fits: h1 constraint ssd exists not met (no ssd label); h2 constraint ssd exists not met (no ssd label); h3 constraint ssd exists not met (no ssd label); h4 cordoned',
    );
  });

  it('names constraints, missing cpus and cordon state when a big service fits nowhere', () => {
    const batch = service('batch', { cpus: 3, memoryMb: 1024 }, [zoneB]);
    const result = placeReplica(batch, exampleCluster(), []);
    expect(reasonOf(result)).toBe('no host fits: h1 constraint zone=b not met (zone=a); h2 constraint zone=b not met (zone=a); h3 needs 3 cpus (2 free); h4 cordoned');
    expect(result.ok ? [] : result.excluded.map((e) => e.host)).toEqual(['h1', 'h2', 'h3', 'h4']);
  });

  it('names both missing cpus and memory, and a host at maxReplicas', () => {
    const hosts = [host('h1', 2, 4096, { zone: 'a' }), host('h3', 2, 4096, { zone: 'b' }, { maxReplicas: 2 })];
    const allocations = [alloc('db', 'h1', { cpus: 1.75, memoryMb: 3840 }), alloc('cache', 'h3'), alloc('cache', 'h3')];
    expect(reasonOf(placeReplica(web, hosts, allocations))).toBe('no host fits: h1 needs 0.5 cpus (0.25 free) and 512 MB memory (256 free); h3 full (2 of 2 replicas)');
  });

  it('places 4 web replicas on h2, h3, h1, h3 one after another', () => {
    const sequence = placeReplicas(web, exampleCluster(), [], 4);
    expect(sequence.placed.map((a) => [a.replicaId, a.host])).toEqual([
      ['web-1', 'h2'],
      ['web-2', 'h3'],
      ['web-3', 'h1'],
      ['web-4', 'h3'],
    ]);
    expect(sequence.pending).toEqual([]);
  });
});

describe('placeReplica: filters and edge cases', () => {
  it('answers that no hosts are configured when the list is empty', () => {
    expect(reasonOf(placeReplica(web, [], []))).toBe('no host fits: no hosts are configured');
  });

  it('counts cpus in thousandths, so 0.1 + 0.2 cpus fill a 0.3-cpu host exactly', () => {
    const hosts = [host('h1', 0.3, 100)];
    const tenth = service('a', { cpus: 0.1, memoryMb: 0 });
    const fifth = service('b', { cpus: 0.2, memoryMb: 0 });
    expect(placedOn(placeReplica(fifth, hosts, [alloc(tenth, 'h1')]))).toBe('h1');
    expect(reasonOf(placeReplica(service('c', { cpus: 0.001, memoryMb: 0 }, []), hosts, [alloc(tenth, 'h1'), alloc(fifth, 'h1')]))).toBe('no host fits: h1 needs 0.001 cpus (0 free)');
  });

  it('lets a replica that reserves nothing onto an over-committed host, but not past maxReplicas', () => {
    const hosts = [host('h1', 1, 1024, {}, { maxReplicas: 2 })];
    const free = service('free', { cpus: 0, memoryMb: 0 });
    expect(placedOn(placeReplica(free, hosts, [alloc('big', 'h1', { cpus: 4, memoryMb: 4096 })]))).toBe('h1');
    expect(reasonOf(placeReplica(free, hosts, [alloc('big', 'h1', { cpus: 4, memoryMb: 4096 }), alloc('x', 'h1')]))).toBe('no host fits: h1 full (2 of 2 replicas)');
  });

  it('ignores allocations on hosts that are no longer listed', () => {
    expect(placedOn(placeReplica(web, [host('h1', 1, 1024)], [alloc(web, 'gone'), alloc('db', 'gone', { cpus: 64, memoryMb: 1 })]))).toBe('h1');
  });

  it('applies notIn, exists and notExists as Kubernetes node affinity does', () => {
    const hosts = [host('a', 1, 1024, { zone: 'a', gpu: 'yes' }), host('b', 1, 1024, { zone: 'b' }), host('n', 1, 1024, {})];
    const on = (constraints: PlacementConstraint[]): string[] =>
      hosts.filter((h) => placeReplica(service('s', { cpus: 0, memoryMb: 0 }, constraints), [h], []).ok).map((h) => h.name);
    expect(on([{ label: 'zone', op: 'notIn', values: ['a'] }])).toEqual(['b', 'n']);
    expect(on([{ label: 'zone', op: 'in', values: ['a', 'b'] }])).toEqual(['a', 'b']);
    expect(on([{ label: 'gpu', op: 'exists' }])).toEqual(['a']);
    expect(on([{ label: 'gpu', op: 'notExists' }])).toEqual(['b', 'n']);
    expect(on([{ label: 'zone', op: 'exists' }, { label: 'gpu', op: 'notExists' }])).toEqual(['b']);
  });

  it('describes constraints the way reasons print them', () => {
    expect(describeConstraint({ label: 'zone', op: 'in', values: ['a', 'b'] })).toBe('zone in (a, b)');
    expect(describeConstraint({ label: 'zone', op: 'notIn', values: ['c'] })).toBe('zone!=c');
    expect(describeConstraint({ label: 'zone', op: 'notIn', values: ['c', 'd'] })).toBe('zone notIn (c, d)');
    expect(describeConstraint({ label: 'gpu', op: 'notExists' })).toBe('gpu notExists');
  });

  it('spreads over hosts without the spread label as one more group', () => {
    const hosts = [host('a1', 4, 4096, { zone: 'a' }), host('n1', 4, 4096), host('n2', 4, 4096)];
    const s = service('s', { cpus: 0, memoryMb: 0 }, [], 'zone');
    // Third replica: the groups tie at 1 and n2 holds none yet; fourth: group a holds 1, the rest 2.
    expect(placeReplicas(s, hosts, [], 4).placed.map((a) => a.host)).toEqual(['a1', 'n1', 'n2', 'a1']);
  });

  it('spreads a service that reserves nothing over the hosts of a zone too', () => {
    const hosts = [host('h1', 1, 1024), host('h2', 1, 1024), host('h3', 1, 1024)];
    const s = service('s', { cpus: 0, memoryMb: 0 });
    expect(placeReplicas(s, hosts, [], 6).placed.map((a) => a.host)).toEqual(['h1', 'h2', 'h3', 'h1', 'h2', 'h3']);
  });

  it('leaves the rest pending with the reason once nothing fits, numbering after existing replicas', () => {
    const sequence = placeReplicas(web, [host('h1', 1, 4096)], [alloc(web, 'h1')], 3);
    expect(sequence.placed.map((a) => [a.replicaId, a.host])).toEqual([['web-2', 'h1']]);
    expect(sequence.pending).toEqual([
      { replicaId: 'web-3', reason: 'no host fits: h1 needs 0.5 cpus (0 free)' },
      { replicaId: 'web-4', reason: 'no host fits: h1 needs 0.5 cpus (0 free)' },
    ]);
  });
});

describe('placement input checks', () => {
  it('names every problem with its path', () => {
    const bad = service('', { cpus: Number.NaN, memoryMb: -1 }, [{ label: 'zone', op: 'in', values: [] }, { label: '', op: 'near' } as unknown as PlacementConstraint]);
    const hosts = [host('h1', -2, 10), host('h1', 1, 1, {}, { maxReplicas: 1.5 })];
    const problems = placementProblems(bad, hosts, [{ service: 'x', replicaId: 'x-1', host: 'h1', resources: { cpus: Infinity, memoryMb: 0 } }]);
    expect(problems.map((p) => p.path)).toEqual([
      'service.name',
      'service.resources.cpus',
      'service.resources.memoryMb',
      'service.placement.constraints[0].values',
      'service.placement.constraints[1].label',
      'service.placement.constraints[1].op',
      'hosts[0].capacity.cpus',
      'hosts[1].name',
      'hosts[1].capacity.maxReplicas',
      'allocations[0].resources.cpus',
    ]);
    expect(problems.find((p) => p.path === 'hosts[1].name')?.message).toBe('duplicate host name "h1" (also hosts[0])');
  });

  it('makes placeReplica and placeReplicas throw one error listing the problems', () => {
    const hosts = [host('h1', 1, 1024, { zone: 1 as unknown as string })];
    expect(() => placeReplica(web, hosts, [])).toThrow(PlacementInputError);
    expect(() => placeReplica(web, hosts, [])).toThrow('invalid placement input: hosts[0].labels.zone: must be a string, got 1');
    expect(() => placeReplicas(web, [host('h1', 1, 1)], [], -1)).toThrow('count must be an integer >= 0');
  });
});

// ---- property checks on generated clusters -------------------------------------------------

const ZONES = ['a', 'b', 'c'];

function holds(c: PlacementConstraint, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, c.label) ? labels[c.label] : undefined;
  switch (c.op) {
    case 'exists':
      return value !== undefined;
    case 'notExists':
      return value === undefined;
    case 'in':
      return value !== undefined && c.values.includes(value);
    case 'notIn':
      return value === undefined || !c.values.includes(value);
  }
}

/** An oracle written apart from the implementation: can `h` take one more replica of `svc`? */
function fits(h: HostSpec, svc: ServiceDemand, allocations: readonly Allocation[]): boolean {
  if (h.cordoned || !svc.placement.constraints.every((c) => holds(c, h.labels))) return false;
  const on = allocations.filter((a) => a.host === h.name);
  if (h.capacity.maxReplicas !== undefined && on.length >= h.capacity.maxReplicas) return false;
  const milli = (x: number): number => Math.round(x * 1000);
  const usedCpus = on.reduce((sum, a) => sum + milli(a.resources.cpus), 0);
  const usedMemory = on.reduce((sum, a) => sum + milli(a.resources.memoryMb), 0);
  const needCpus = milli(svc.resources.cpus);
  const needMemory = milli(svc.resources.memoryMb);
  return (needCpus === 0 || usedCpus + needCpus <= milli(h.capacity.cpus)) && (needMemory === 0 || usedMemory + needMemory <= milli(h.capacity.memoryMb));
}

function zoneCount(hosts: readonly HostSpec[], allocations: readonly Allocation[], svc: string, zone: string): number {
  const names = new Set(hosts.filter((h) => (h.labels['zone'] ?? '') === zone).map((h) => h.name));
  return allocations.filter((a) => a.service === svc && names.has(a.host)).length;
}

interface GeneratedCase {
  readonly hosts: HostSpec[];
  readonly allocations: Allocation[];
  readonly service: ServiceDemand;
  readonly count: number;
}

function generate(seed: number): GeneratedCase {
  const random = prng(seed);
  const hosts: HostSpec[] = [];
  const hostCount = 1 + Math.floor(random() * 7);
  for (let i = 0; i < hostCount; i++) {
    const labels: Record<string, string> = {};
    if (random() < 0.9) labels['zone'] = pick(random, ZONES);
    if (random() < 0.3) labels['ssd'] = 'true';
    hosts.push(host(`h${i}`, pick(random, [0, 0.5, 1, 2, 4]), pick(random, [0, 512, 1024, 4096]), labels, { cordoned: random() < 0.2, ...(random() < 0.3 ? { maxReplicas: Math.floor(random() * 5) } : {}) }));
  }
  const allocations: Allocation[] = [];
  const others = Math.floor(random() * 6);
  for (let i = 0; i < others; i++) allocations.push(alloc(pick(random, ['db', 'cache', 'svc']), pick(random, hosts).name, { cpus: pick(random, [0, 0.25, 0.5]), memoryMb: pick(random, [0, 256]) }));
  const constraints: PlacementConstraint[] = [];
  if (random() < 0.3) constraints.push({ label: 'zone', op: 'in', values: ZONES.filter(() => random() < 0.6).concat('a') });
  if (random() < 0.2) constraints.push({ label: 'ssd', op: pick(random, ['exists', 'notExists'] as const) });
  const svc = service('svc', { cpus: pick(random, [0, 0.25, 0.5, 1]), memoryMb: pick(random, [0, 128, 512]) }, constraints, random() < 0.7 ? 'zone' : undefined);
  return { hosts, allocations, service: svc, count: Math.floor(random() * 16) };
}

describe('placement properties on 400 generated clusters', () => {
  const seeds = Array.from({ length: 400 }, (_, i) => i + 1);

  it('never places beyond capacity or maxReplicas, never on a cordoned host, never against a constraint', () => {
    let placedTotal = 0;
    for (const seed of seeds) {
      const c = generate(seed);
      const { placed } = placeReplicas(c.service, c.hosts, c.allocations, c.count);
      const so: Allocation[] = [...c.allocations];
      for (const a of placed) {
        const h = c.hosts.find((x) => x.name === a.host) as HostSpec;
        expect(fits(h, c.service, so), `seed ${seed}: ${a.replicaId} on ${a.host}`).toBe(true);
        so.push(a);
      }
      placedTotal += placed.length;
    }
    expect(placedTotal).toBeGreaterThan(300); // the generator does place replicas
  });

  it('leaves a replica pending only when no host fits, and then names every host', () => {
    let pendingCases = 0;
    for (const seed of seeds) {
      const c = generate(seed);
      const { placed, pending } = placeReplicas(c.service, c.hosts, c.allocations, c.count);
      if (pending.length === 0) continue;
      pendingCases += 1;
      const all = [...c.allocations, ...placed];
      expect(c.hosts.some((h) => fits(h, c.service, all)), `seed ${seed}`).toBe(false);
      for (const h of c.hosts) expect(pending[0]?.reason, `seed ${seed}`).toContain(`${h.name} `);
    }
    expect(pendingCases).toBeGreaterThan(20);
  });

  it('picks a host whose spread group holds the fewest replicas among the hosts that fit', () => {
    for (const seed of seeds) {
      const c = generate(seed);
      if (c.service.placement.spread === undefined) continue;
      const result = placeReplica(c.service, c.hosts, c.allocations);
      if (!result.ok) continue;
      const fitting = c.hosts.filter((h) => fits(h, c.service, c.allocations));
      const least = Math.min(...fitting.map((h) => zoneCount(c.hosts, c.allocations, 'svc', h.labels['zone'] ?? '')));
      expect(zoneCount(c.hosts, c.allocations, 'svc', result.host.labels['zone'] ?? ''), `seed ${seed}`).toBe(least);
    }
  });

  it('keeps zones within one replica of each other when capacity allows', () => {
    for (const seed of seeds) {
      const random = prng(seed * 7919);
      const hosts = Array.from({ length: 2 + Math.floor(random() * 6) }, (_, i) => host(`n${i}`, pick(random, [8, 16, 32]), pick(random, [16_384, 65_536]), { zone: pick(random, ZONES) }));
      const svc = service('svc', { cpus: pick(random, [0, 0.25, 0.5]), memoryMb: pick(random, [0, 256]) }, [], 'zone');
      const count = Math.floor(random() * 13);
      const { placed, pending } = placeReplicas(svc, hosts, [], count);
      expect(pending).toEqual([]);
      const zones = [...new Set(hosts.map((h) => h.labels['zone'] as string))];
      const counts = zones.map((z) => zoneCount(hosts, placed, 'svc', z));
      expect(Math.max(...counts) - Math.min(...counts), `seed ${seed}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic: the same answer for the same input, whatever the order of hosts and allocations', () => {
    for (const seed of seeds) {
      const c = generate(seed);
      const expected = placeReplicas(c.service, c.hosts, c.allocations, c.count);
      const random = prng(seed + 1_000_000);
      const again = placeReplicas(c.service, shuffled(random, c.hosts), shuffled(random, c.allocations), c.count);
      expect(again, `seed ${seed}`).toEqual(expected);
      const describe = (r: ReturnType<typeof placeReplica>): string => (r.ok ? r.host.name : r.reason);
      const once = describe(placeReplica(c.service, c.hosts, c.allocations));
      expect(describe(placeReplica(c.service, shuffled(random, c.hosts), shuffled(random, c.allocations))), `seed ${seed}`).toBe(once);
      if (c.count > 0) expect(expected.placed[0]?.host ?? expected.pending[0]?.reason, `seed ${seed}`).toBe(once);
    }
  });
});
