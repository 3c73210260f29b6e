// Docker inspect JSON to the Docker provider's snapshot, from recorded daemon output (fixtures/,
// recorded from docker.io 20.10 and trimmed; inspect-bridge-any-address.json is inspect-bridge.json
// with the binding moved to 0.0.0.0, so no test ever listened beyond loopback). Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeContainer,
  endpointIdOf,
  translateContainers,
  type ContainerInspect,
} from '../../../../src/registry/docker/translate-containers.js';

const inspect = (name: string): ContainerInspect =>
  JSON.parse(readFileSync(new URL(`./fixtures/inspect-${name}.json`, import.meta.url), 'utf8')) as ContainerInspect;

/** A fixture with some labels replaced (undefined removes one) and other fields overridden. */
function variant(name: string, labels: Record<string, string | undefined>, patch: Partial<ContainerInspect> = {}): ContainerInspect {
  const base = inspect(name);
  const merged: Record<string, string> = { ...(base.Config?.Labels ?? {}) };
  for (const [key, value] of Object.entries(labels)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return { ...base, ...patch, Config: { ...base.Config, Labels: merged } };
}

const healthy = inspect('healthy');
const bridge = inspect('bridge');

describe('translateContainers: what serves', () => {
  it('a healthy host-network container is an endpoint on 127.0.0.1 with its label port, weight and version', () => {
    const result = translateContainers([healthy], 'dockmaster');
    expect(result.skipped).toEqual([]);
    expect([...result.snapshot.entries()]).toEqual([
      [
        'shop',
        [
          {
            id: `docker:${healthy.Id.slice(0, 12)}`,
            origin: 'http://127.0.0.1:18611',
            weight: 5,
            revision: 'v2.3.0',
            source: 'docker',
            healthy: true,
            draining: false,
          },
        ],
      ],
    ]);
  });

  it('a container without a health check is used as soon as it runs, with weight 1 and no revision', () => {
    const result = translateContainers([inspect('nocheck')], 'dockmaster');
    expect(result.snapshot.get('cart')).toEqual([
      expect.objectContaining({ origin: 'http://127.0.0.1:18614', weight: 1, revision: undefined, source: 'docker' }),
    ]);
  });

  it('a bridge container uses the host port published on 127.0.0.1, never its bridge address', () => {
    const result = translateContainers([bridge], 'dockmaster');
    const [endpoint] = result.snapshot.get('cart') ?? [];
    expect(endpoint).toMatchObject({ origin: 'http://127.0.0.1:32772', revision: 'v1' });
    expect(JSON.stringify(bridge)).toContain('172.21.0.2');
    expect(endpoint?.origin).not.toContain('172.');
  });

  it('a port published on 0.0.0.0 is reached through 127.0.0.1', () => {
    const result = translateContainers([inspect('bridge-any-address')], 'dockmaster');
    expect(result.snapshot.get('cart')?.[0]?.origin).toBe('http://127.0.0.1:32772');
  });

  it('prefers the 127.0.0.1 binding when the port is bound on several addresses', () => {
    const several = {
      ...bridge,
      NetworkSettings: {
        Ports: {
          '8080/tcp': [
            { HostIp: '0.0.0.0', HostPort: '40001' },
            { HostIp: '::', HostPort: '40001' },
            { HostIp: '127.0.0.1', HostPort: '40002' },
          ],
        },
      },
    };
    expect(translateContainers([several], 'dockmaster').snapshot.get('cart')?.[0]?.origin).toBe('http://127.0.0.1:40002');
  });
});

describe('translateContainers: what does not serve (ignored, not reported)', () => {
  it.each([
    ['unhealthy', 'not-healthy'],
    ['starting', 'not-healthy'],
    ['exited', 'not-running'],
    ['managed', 'managed'],
  ] as const)('a %s container is left out as %s', (name, why) => {
    const info = inspect(name);
    const result = translateContainers([info, healthy], 'dockmaster');
    expect(result.snapshot.get('shop')?.map((e) => e.id)).toEqual([endpointIdOf(healthy.Id)]);
    expect(result.ignored).toEqual([{ id: endpointIdOf(info.Id), why }]);
    expect(result.skipped).toEqual([]);
  });

  it('a paused container (Running true, Status paused) is left out', () => {
    const paused = { ...healthy, State: { ...healthy.State, Status: 'paused', Running: true } };
    expect(translateContainers([paused], 'dockmaster').snapshot.size).toBe(0);
  });

  it('a container without the service label is none of its business', () => {
    const result = translateContainers([variant('healthy', { 'dockmaster.service': undefined })], 'dockmaster');
    expect(result).toEqual({ snapshot: new Map(), skipped: [], ignored: [] });
  });

  it('labels under another prefix count only with that prefix configured', () => {
    const acme = variant('healthy', {
      'dockmaster.service': undefined,
      'dockmaster.port': undefined,
      'acme.service': 'shop',
      'acme.port': '18611',
      'acme.weight': '7',
    });
    expect(translateContainers([acme], 'dockmaster').snapshot.size).toBe(0);
    expect(translateContainers([acme], 'acme').snapshot.get('shop')?.[0]).toMatchObject({ weight: 7, revision: undefined });
    // The replica label of the configured prefix marks a managed container.
    const managed = variant('healthy', { 'acme.service': 'shop', 'acme.port': '18611', 'acme.replica': 'r1' });
    expect(translateContainers([managed], 'acme').ignored).toEqual([{ id: endpointIdOf(healthy.Id), why: 'managed' }]);
  });
});

describe('translateContainers: bad containers are skipped and reported, the rest used', () => {
  const shortId = healthy.Id.slice(0, 12);
  it.each([
    ['a port label that is not a number', inspect('badport'), /container dm-reg-fx-badport \([0-9a-f]{12}\): label dockmaster\.port="http" is not a port/],
    ['a missing port label', variant('healthy', { 'dockmaster.port': undefined }), new RegExp(`dm-reg-fx-healthy \\(${shortId}\\): label dockmaster\\.port is missing`)],
    ['port 0', variant('healthy', { 'dockmaster.port': '0' }), /label dockmaster\.port="0" is not a port/],
    ['port 70000', variant('healthy', { 'dockmaster.port': '70000' }), /label dockmaster\.port="70000" is not a port/],
    ['a weight above 1000', variant('healthy', { 'dockmaster.weight': '1001' }), /label dockmaster\.weight="1001" is not a weight \(an integer 0-1000\)/],
    ['a negative weight', variant('healthy', { 'dockmaster.weight': '-1' }), /dockmaster\.weight="-1"/],
    ['a fractional weight', variant('healthy', { 'dockmaster.weight': '2.5' }), /dockmaster\.weight="2.5"/],
    ['an empty service label', variant('healthy', { 'dockmaster.service': ' ' }), /label dockmaster\.service is empty/],
    ['a container port that is not published', inspect('unpublished'), /dm-reg-fx-unpublished .*: port 8080\/tcp is not published on 127\.0\.0\.1 or 0\.0\.0\.0 \(network dm-reg-fx-net/],
  ])('%s', (_what, bad, reason) => {
    const result = translateContainers([bad, inspect('nocheck')], 'dockmaster');
    expect(result.skipped).toEqual([{ id: endpointIdOf(bad.Id), reason: expect.stringMatching(reason) as string }]);
    expect(result.snapshot.get('cart')?.map((e) => e.origin)).toEqual(['http://127.0.0.1:18614']);
    expect(result.snapshot.get('shop')).toBeUndefined();
  });

  it('a port bound only on an IPv6 address is not published for loopback IPv4', () => {
    const v6 = { ...bridge, NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '::', HostPort: '40001' }] } } };
    expect(translateContainers([v6], 'dockmaster').skipped).toHaveLength(1);
  });

  it('a duplicate endpoint id keeps the first container (by id) and reports the other', () => {
    const twin = { ...inspect('nocheck'), Id: `${healthy.Id.slice(0, 12)}ffffffffffff`, Name: '/twin' };
    const result = translateContainers([twin, healthy], 'dockmaster');
    expect(result.snapshot.get('shop')?.map((e) => e.origin)).toEqual(['http://127.0.0.1:18611']);
    expect(result.snapshot.get('cart')).toBeUndefined();
    expect(result.skipped).toEqual([
      { id: `docker:${shortId}`, reason: `container twin (${shortId}): duplicate endpoint id docker:${shortId} (already used by container dm-reg-fx-healthy (${shortId}))` },
    ]);
  });

  it('an inspect result without a usable Id is reported, not thrown on', () => {
    const broken = { ...healthy, Id: '' };
    const result = translateContainers([broken, inspect('nocheck')], 'dockmaster');
    expect(result.skipped).toEqual([{ id: 'docker:?', reason: 'container dm-reg-fx-healthy: inspect result has no valid Id' }]);
    expect(result.snapshot.get('cart')).toHaveLength(1);
  });
});

describe('translateContainers: the snapshot is deterministic', () => {
  it('does not depend on the order of the inspect results', () => {
    const all = ['healthy', 'unhealthy', 'starting', 'nocheck', 'bridge', 'unpublished', 'managed', 'exited', 'badport'].map(inspect);
    const forward = translateContainers(all, 'dockmaster');
    const backward = translateContainers([...all].reverse(), 'dockmaster');
    expect(backward).toEqual(forward);
    expect([...forward.snapshot.keys()]).toEqual(['cart', 'shop']);
    const cart = forward.snapshot.get('cart')?.map((e) => e.id) ?? [];
    expect(cart).toEqual([...cart].sort());
    expect(cart).toHaveLength(2);
    expect(forward.skipped.map((s) => s.id)).toEqual([endpointIdOf(inspect('badport').Id), endpointIdOf(inspect('unpublished').Id)].sort());
  });

  it('names a container by its name without the slash, and by id alone without one', () => {
    expect(describeContainer({ Id: 'abcdef0123456789', Name: '/web-1' })).toBe('container web-1 (abcdef012345)');
    expect(describeContainer({ Id: 'abcdef0123456789' })).toBe('container abcdef012345');
  });
});
