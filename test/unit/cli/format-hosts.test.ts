// Text of `dockmaster hosts` and `dockmaster host cordon|uncordon|drain`: the hosts table, one host
// with its replicas, command answers and drain progress. Pure.
import { describe, expect, it } from 'vitest';
import {
  drainProgress,
  formatCpus,
  formatDrainEnd,
  formatDrainMoving,
  formatHost,
  formatHostCommand,
  formatHosts,
  schedulingCell,
  stateCell,
} from '../../../src/cli/format-hosts.js';
import { NODE_A, NODE_B, NODE_C, NOW_MS } from './host-views.js';

describe('formatHosts (the table of `dockmaster hosts`)', () => {
  it('shows each host: state and since when, scheduling, cpus and memory used/total, replicas, labels', () => {
    expect(formatHosts([NODE_A, NODE_B, NODE_C], NOW_MS)).toBe(
      [
        'HOST    ADDRESS    STATE           SCHEDULING  CPUS    MEMORY MB  REPLICAS  LABELS',
        'node-a  127.0.0.1  reachable 5m    ready       1.5/4   1536/8192  3/20      disk=ssd,zone=a',
        'node-b  127.0.0.1  LOST 12s        cordoned    0/2.5   0/4096     0         zone=b',
        'node-c  ::1        unreachable 3s  draining    0.25/1  128/1024   1         -',
      ].join('\n'),
    );
  });

  it('says why there are no hosts when the gateway gives a note', () => {
    expect(formatHosts([], NOW_MS, 'no hosts are listed in dockmaster.yaml')).toBe('no hosts are listed in dockmaster.yaml');
  });

  it('says "no hosts" for an empty list without a note', () => {
    expect(formatHosts([], NOW_MS)).toBe('no hosts');
  });
});

describe('cells', () => {
  it('a state since longer ago reads in minutes, hours or days', () => {
    expect(stateCell({ ...NODE_A, sinceMs: NOW_MS - 90 * 60_000 }, NOW_MS)).toBe('reachable 90m');
    expect(stateCell({ ...NODE_A, sinceMs: NOW_MS - 3 * 3_600_000 }, NOW_MS)).toBe('reachable 3h');
    expect(stateCell({ ...NODE_B, sinceMs: NOW_MS - 3 * 86_400_000 }, NOW_MS)).toBe('LOST 3d');
  });

  it('a since in the future (clock skew) reads as 0s, never negative', () => {
    expect(stateCell({ ...NODE_A, sinceMs: NOW_MS + 5_000 }, NOW_MS)).toBe('reachable 0s');
  });

  it('draining wins over cordoned; neither is ready', () => {
    expect(schedulingCell(NODE_A)).toBe('ready');
    expect(schedulingCell(NODE_B)).toBe('cordoned');
    expect(schedulingCell(NODE_C)).toBe('draining');
  });

  it('cpus print with at most three decimals, no trailing zeros', () => {
    expect(formatCpus(4)).toBe('4');
    expect(formatCpus(0.1 + 0.2)).toBe('0.3');
    expect(formatCpus(1.2345)).toBe('1.235');
  });
});

describe('formatHost (`dockmaster hosts NAME`)', () => {
  it('shows a reachable host with its replicas sorted by service and id', () => {
    expect(formatHost(NODE_A, NOW_MS)).toBe(
      [
        'host:        node-a',
        'address:     127.0.0.1',
        'docker:      unix:///run/dockmaster/a.sock',
        'state:       reachable for 5m',
        'scheduling:  ready',
        'cpus:        1.5 of 4 allocated',
        'memory:      1536 of 8192 MB allocated',
        'replicas:    3 of at most 20',
        'labels:      disk=ssd,zone=a',
        '',
        'SERVICE  REPLICA  REVISION',
        'api      api-7f   f6a7b8c9d0',
        'web      web-1a   a1b2c3d4e5',
        'web      web-2b   a1b2c3d4e5',
      ].join('\n'),
    );
  });

  it('shows a lost host with its last error and no replica table', () => {
    const text = formatHost(NODE_B, NOW_MS);
    expect(text).toContain('state:       LOST for 12s: its replicas are replaced on other hosts (last error: connect ECONNREFUSED /run/dockmaster/b.sock)');
    expect(text).toContain('scheduling:  cordoned (no new replicas)');
    expect(text).toContain('replicas:    0\n');
    expect(text).not.toContain('SERVICE');
  });

  it('shows an unreachable draining host', () => {
    const text = formatHost(NODE_C, NOW_MS);
    expect(text).toContain('state:       unreachable for 3s (last error: ping timed out after 1000 ms)');
    expect(text).toContain('scheduling:  draining (cordoned; its replicas are moving to other hosts)');
    expect(text).toContain('labels:      -');
  });

  it('a host without an endpoint is on the local daemon', () => {
    expect(formatHost({ ...NODE_A, dockerEndpoint: undefined }, NOW_MS)).toContain('docker:      the local daemon (DOCKER_HOST or its default socket)\n');
  });
});

describe('host commands and drain progress', () => {
  it('a command answer names the host and the gateway message', () => {
    expect(formatHostCommand('cordon', { message: 'cordoned', host: { ...NODE_A, cordoned: true } })).toBe('host/node-a: cordoned');
  });

  it('a drain answer adds how many replicas are to move', () => {
    expect(formatHostCommand('drain', { message: 'draining', host: { ...NODE_A, draining: true } })).toBe('host/node-a: draining\n  3 replicas to move');
    expect(formatHostCommand('drain', { message: 'draining', host: NODE_C })).toBe('host/node-c: draining\n  1 replica to move');
    expect(formatHostCommand('drain', { message: 'drained: no replicas here', host: NODE_B })).toBe('host/node-b: drained: no replicas here');
  });

  it('drainProgress: drained with no replica; moving while draining; stopped when no longer draining', () => {
    expect(drainProgress(NODE_B)).toEqual({ kind: 'drained' });
    expect(drainProgress(NODE_C)).toEqual({ kind: 'moving', left: 1 });
    expect(drainProgress(NODE_A)).toEqual({ kind: 'stopped', left: 3 });
  });

  it('progress and end lines', () => {
    expect(formatDrainMoving('node-a', 2)).toBe('host/node-a: draining, 2 replicas left');
    expect(formatDrainEnd(NODE_B, { kind: 'drained' }, 4_000)).toBe(
      "host/node-b: drained, no replicas left (still cordoned: 'dockmaster host uncordon node-b' lets new replicas land here again)",
    );
    expect(formatDrainEnd(NODE_A, { kind: 'stopped', left: 3 }, 4_000)).toBe(
      'host/node-a: the drain stopped (the host is no longer draining) with 3 replicas still here: web/web-2b, api/api-7f, web/web-1a',
    );
    expect(formatDrainEnd(NODE_C, { kind: 'moving', left: 1 }, 125_000)).toBe(
      "host/node-c: still draining after 2m, 1 replica left: api/api-9c\n  the gateway keeps draining; 'dockmaster hosts node-c' shows the progress (a replica with no other host to go to waits for room)",
    );
  });
});
