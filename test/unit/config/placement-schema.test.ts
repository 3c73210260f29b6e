// A service's `resources` and `placement` (src/config/placement-schema.ts through
// validateServiceSpec): what they become in the spec, the defaults when absent (NO_RESOURCES,
// NO_PLACEMENT), process services, and every problem with its path. Pure.
import { describe, expect, it } from 'vitest';
import { resolveServices, validateServiceSpec } from '../../../src/config/service-schema.js';
import { NO_PLACEMENT, NO_RESOURCES } from '../../../src/model/host.js';
import { placementOf, resourcesOf } from '../../../src/model/service.js';

const FILE = 'policies/api.yaml';
const DOCKER = { type: 'docker', image: 'api:1' };

function service(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'Service', name: 'api', runtime: DOCKER, ...overrides };
}

function specOf(value: Record<string, unknown>) {
  const result = validateServiceSpec(value, FILE);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.problems)}`);
  return result.value;
}

function problemsOf(value: Record<string, unknown>): Array<{ path: string; message: string }> {
  const result = validateServiceSpec(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message })).sort((a, b) => a.path.localeCompare(b.path));
}

describe('service resources and placement: accepted', () => {
  it('a service without them has no such keys, and reads as NO_RESOURCES and NO_PLACEMENT', () => {
    const spec = specOf(service());
    expect('resources' in spec).toBe(false);
    expect('placement' in spec).toBe(false);
    expect(resourcesOf(spec)).toBe(NO_RESOURCES);
    expect(placementOf(spec)).toBe(NO_PLACEMENT);
  });

  it('resources with both parts are kept', () => {
    const spec = specOf(service({ resources: { cpus: 0.5, memoryMb: 256 } }));
    expect(spec.resources).toEqual({ cpus: 0.5, memoryMb: 256 });
    expect(resourcesOf(spec)).toEqual({ cpus: 0.5, memoryMb: 256 });
  });

  it('a part left out reserves nothing (0 is also no Docker limit)', () => {
    expect(specOf(service({ resources: { cpus: 1.25 } })).resources).toEqual({ cpus: 1.25, memoryMb: 0 });
    expect(specOf(service({ resources: { memoryMb: 6 } })).resources).toEqual({ cpus: 0, memoryMb: 6 });
  });

  it('every constraint form is read as written', () => {
    const spec = specOf(
      service({
        placement: {
          constraints: [
            { label: 'zone', op: 'in', values: ['a', 'b'] },
            { label: 'zone', op: 'notIn', values: ['c'] },
            { label: 'example.com/gpu', op: 'exists' },
            { label: 'spot', op: 'notExists' },
          ],
          spread: 'zone',
        },
      }),
    );
    expect(spec.placement).toEqual({
      constraints: [
        { label: 'zone', op: 'in', values: ['a', 'b'] },
        { label: 'zone', op: 'notIn', values: ['c'] },
        { label: 'example.com/gpu', op: 'exists' },
        { label: 'spot', op: 'notExists' },
      ],
      spread: 'zone',
    });
  });

  it('placement with only spread has no constraints; an empty placement is NO_PLACEMENT in effect', () => {
    expect(specOf(service({ placement: { spread: 'zone' } })).placement).toEqual({ constraints: [], spread: 'zone' });
    expect(specOf(service({ placement: {} })).placement).toEqual(NO_PLACEMENT);
  });

  it('a process service may set resources: accepted, and documented as not enforced', () => {
    const spec = specOf(service({ runtime: { type: 'process', command: ['node', 'app.mjs'] }, resources: { cpus: 1, memoryMb: 128 } }));
    expect(spec.resources).toEqual({ cpus: 1, memoryMb: 128 });
  });

  it('the spec is frozen, resources and placement included', () => {
    const spec = specOf(service({ resources: { cpus: 1 }, placement: { constraints: [{ label: 'zone', op: 'in', values: ['a'] }] } }));
    expect(Object.isFrozen(spec.resources)).toBe(true);
    expect(Object.isFrozen(spec.placement?.constraints[0])).toBe(true);
  });

  it('resolveServices keeps resources and placement', () => {
    const spec = specOf(service({ resources: { cpus: 1, memoryMb: 64 }, placement: { spread: 'zone' } }));
    const [resolved] = resolveServices([spec]);
    expect(resolved?.resources).toEqual({ cpus: 1, memoryMb: 64 });
    expect(resolved?.placement).toEqual({ constraints: [], spread: 'zone' });
  });
});

describe('service resources and placement: problems', () => {
  const cases: Array<{ name: string; value: Record<string, unknown>; problems: Array<{ path: string; message: string | RegExp }> }> = [
    { name: 'resources that is not a mapping', value: service({ resources: 2 }), problems: [{ path: '/resources', message: 'must be a mapping of keys to values' }] },
    { name: 'empty resources', value: service({ resources: {} }), problems: [{ path: '/resources', message: 'must set cpus, memoryMb or both' }] },
    { name: 'an unknown resources key', value: service({ resources: { cpus: 1, gpus: 1 } }), problems: [{ path: '/resources/gpus', message: "unknown key 'gpus'" }] },
    { name: 'zero cpus', value: service({ resources: { cpus: 0 } }), problems: [{ path: '/resources/cpus', message: 'must be a number from 0.001 to 4096' }] },
    { name: 'negative cpus', value: service({ resources: { cpus: -1 } }), problems: [{ path: '/resources/cpus', message: 'must be a number from 0.001 to 4096' }] },
    {
      name: 'cpus finer than thousandths',
      value: service({ resources: { cpus: 0.0005 + 0.001 } }),
      problems: [{ path: '/resources/cpus', message: 'must be a multiple of 0.001 (cpus are counted in thousandths)' }],
    },
    { name: 'cpus as text', value: service({ resources: { cpus: '500m' } }), problems: [{ path: '/resources/cpus', message: 'must be a number from 0.001 to 4096' }] },
    { name: 'memory under Docker\'s 6 MB floor', value: service({ resources: { memoryMb: 5 } }), problems: [{ path: '/resources/memoryMb', message: 'must be an integer from 6 to 67108864' }] },
    { name: 'fractional memory', value: service({ resources: { memoryMb: 64.5 } }), problems: [{ path: '/resources/memoryMb', message: 'must be an integer from 6 to 67108864' }] },
    { name: 'placement that is a list', value: service({ placement: [] }), problems: [{ path: '/placement', message: 'must be a mapping of keys to values' }] },
    { name: 'an unknown placement key', value: service({ placement: { affinity: {} } }), problems: [{ path: '/placement/affinity', message: "unknown key 'affinity'" }] },
    { name: 'constraints that are a mapping', value: service({ placement: { constraints: { zone: 'a' } } }), problems: [{ path: '/placement/constraints', message: 'must be a list' }] },
    {
      name: 'a constraint without label and op',
      value: service({ placement: { constraints: [{ values: ['a'] }] } }),
      problems: [
        { path: '/placement/constraints/0/label', message: 'is required' },
        { path: '/placement/constraints/0/op', message: 'is required' },
      ],
    },
    {
      name: 'an unknown op',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'In', values: ['a'] }] } }),
      problems: [{ path: '/placement/constraints/0/op', message: "must be one of 'in', 'notIn', 'exists', 'notExists'" }],
    },
    {
      name: 'op in without values',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'in' }] } }),
      problems: [{ path: '/placement/constraints/0/values', message: "is required with op 'in': the label values to match, e.g. [a, b]" }],
    },
    {
      name: 'op notIn with an empty list',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'notIn', values: [] }] } }),
      problems: [{ path: '/placement/constraints/0/values', message: "must list at least one value for op 'notIn'" }],
    },
    {
      name: 'op exists with values',
      value: service({ placement: { constraints: [{ label: 'gpu', op: 'exists', values: ['yes'] }] } }),
      problems: [{ path: '/placement/constraints/0/values', message: "op 'exists' takes no values: it only asks whether the host has the label" }],
    },
    {
      name: 'op notExists with an empty list',
      value: service({ placement: { constraints: [{ label: 'gpu', op: 'notExists', values: [] }] } }),
      problems: [{ path: '/placement/constraints/0/values', message: /^op 'notExists' takes no values/ }],
    },
    {
      name: 'a bad label name',
      value: service({ placement: { constraints: [{ label: 'my zone', op: 'exists' }] } }),
      problems: [{ path: '/placement/constraints/0/label', message: /^'my zone' is not a label name/ }],
    },
    {
      name: 'a bad value, named by its index',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'in', values: ['a', 'b c'] }] } }),
      problems: [{ path: '/placement/constraints/0/values/1', message: /^'b c' is not a label value/ }],
    },
    {
      name: 'a value that is not a string',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'in', values: [1] }] } }),
      problems: [{ path: '/placement/constraints/0/values/0', message: 'must be a string' }],
    },
    {
      name: 'an unknown constraint key',
      value: service({ placement: { constraints: [{ label: 'zone', op: 'exists', key: 'x' }] } }),
      problems: [{ path: '/placement/constraints/0/key', message: "unknown key 'key'" }],
    },
    { name: 'a bad spread label', value: service({ placement: { spread: 'zone!' } }), problems: [{ path: '/placement/spread', message: /^'zone!' is not a label name/ }] },
    { name: 'an empty spread label', value: service({ placement: { spread: '' } }), problems: [{ path: '/placement/spread', message: 'must not be empty' }] },
    {
      name: 'more than 32 constraints',
      value: service({ placement: { constraints: Array.from({ length: 33 }, () => ({ label: 'zone', op: 'exists' })) } }),
      problems: [{ path: '/placement/constraints', message: 'must list at most 32 items' }],
    },
    {
      name: 'placement on a process service',
      value: service({ runtime: { type: 'process', command: ['node', 'app.mjs'] }, placement: { spread: 'zone' } }),
      problems: [{ path: '/placement', message: 'applies to docker services only: the replicas of a process service run on this machine' }],
    },
    {
      name: 'every problem at once, with the rest of the document',
      value: service({ replicas: -1, resources: { cpus: 0 }, placement: { constraints: [{ label: 'zone', op: 'in' }], spread: '!' } }),
      problems: [
        { path: '/placement/constraints/0/values', message: /^is required with op 'in'/ },
        { path: '/placement/spread', message: /is not a label name/ },
        { path: '/replicas', message: 'must be an integer from 0 to 1000' },
        { path: '/resources/cpus', message: 'must be a number from 0.001 to 4096' },
      ],
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const problems = problemsOf(c.value);
      expect(problems.map((p) => p.path)).toEqual(c.problems.map((p) => p.path));
      c.problems.forEach((expected, i) => {
        if (typeof expected.message === 'string') expect(problems[i]?.message).toBe(expected.message);
        else expect(problems[i]?.message).toMatch(expected.message);
      });
    });
  }
});
