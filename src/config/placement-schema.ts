// Schema and validation of a service's `resources` (what each replica reserves on its host and
// Docker limits it to) and `placement` (constraints on host labels, spread by a label). Pure:
// parsed values in, problems or model values out.
import { Type, type Static } from '@sinclair/typebox';
import type { ConfigProblem } from '../errors.js';
import type { PlacementConstraint, PlacementSpec, ReplicaResources } from '../model/host.js';
import { CPU_STEP, MAX_HOST_CPUS, MAX_HOST_MEMORY_MB } from './hosts-schema.js';
import { labelKeyProblem, labelValueProblem } from './label-rules.js';

/** Docker refuses a memory limit under 6 MB ("Minimum memory limit allowed is 6MB"). */
export const MIN_REPLICA_MEMORY_MB = 6;
export const MAX_CONSTRAINTS = 32;
export const MAX_CONSTRAINT_VALUES = 64;

export const ResourcesSchema = Type.Object(
  {
    cpus: Type.Optional(Type.Number({ minimum: CPU_STEP, maximum: MAX_HOST_CPUS })),
    memoryMb: Type.Optional(Type.Integer({ minimum: MIN_REPLICA_MEMORY_MB, maximum: MAX_HOST_MEMORY_MB })),
  },
  { additionalProperties: false },
);

const CONSTRAINT_OPS = ['in', 'notIn', 'exists', 'notExists'] as const;

export const ConstraintSchema = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 317 }),
    op: Type.Union(CONSTRAINT_OPS.map((op) => Type.Literal(op))),
    values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: MAX_CONSTRAINT_VALUES })),
  },
  { additionalProperties: false },
);

export const PlacementSchema = Type.Object(
  {
    constraints: Type.Optional(Type.Array(ConstraintSchema, { maxItems: MAX_CONSTRAINTS })),
    spread: Type.Optional(Type.String({ minLength: 1, maxLength: 317 })),
  },
  { additionalProperties: false },
);

type ResourcesInput = Static<typeof ResourcesSchema>;
type PlacementInput = Static<typeof PlacementSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStepOf(value: number, step: number): boolean {
  const steps = value / step;
  return Math.abs(steps - Math.round(steps)) < 1e-6;
}

function constraintProblems(constraint: Record<string, unknown>, path: string, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const label = constraint['label'];
  if (typeof label === 'string' && label !== '') {
    const problem = labelKeyProblem(label);
    if (problem !== undefined) problems.push({ file, path: `${path}/label`, message: problem });
  }
  const op = constraint['op'];
  const values = constraint['values'];
  if (op === 'in' || op === 'notIn') {
    if (values === undefined) problems.push({ file, path: `${path}/values`, message: `is required with op '${op}': the label values to match, e.g. [a, b]` });
    else if (Array.isArray(values) && values.length === 0) problems.push({ file, path: `${path}/values`, message: `must list at least one value for op '${op}'` });
  } else if ((op === 'exists' || op === 'notExists') && values !== undefined) {
    problems.push({ file, path: `${path}/values`, message: `op '${op}' takes no values: it only asks whether the host has the label` });
  }
  if (Array.isArray(values)) {
    values.forEach((value: unknown, i) => {
      const problem = typeof value === 'string' ? labelValueProblem(value) : undefined;
      if (problem !== undefined) problems.push({ file, path: `${path}/values/${i}`, message: problem });
    });
  }
  return problems;
}

/**
 * Problems of `resources` and `placement` the schema cannot express, for a service document that
 * may be malformed (what the schema reports is skipped): resources that set neither cpus nor
 * memoryMb, cpus finer than thousandths, label names and values, values with each op, and
 * `placement` on a process service (its replicas run on this machine; there is nothing to place).
 * `resources` on a process service is accepted and not enforced (see toResources).
 */
export function resourcesPlacementProblems(service: Record<string, unknown>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const resources = service['resources'];
  if (isRecord(resources)) {
    if (resources['cpus'] === undefined && resources['memoryMb'] === undefined) {
      problems.push({ file, path: '/resources', message: 'must set cpus, memoryMb or both' });
    }
    const cpus = resources['cpus'];
    if (typeof cpus === 'number' && cpus >= CPU_STEP && !isStepOf(cpus, CPU_STEP)) {
      problems.push({ file, path: '/resources/cpus', message: `must be a multiple of ${CPU_STEP} (cpus are counted in thousandths)` });
    }
  }
  const placement = service['placement'];
  if (placement !== undefined) {
    const runtime = service['runtime'];
    if (isRecord(runtime) && runtime['type'] === 'process') {
      problems.push({ file, path: '/placement', message: 'applies to docker services only: the replicas of a process service run on this machine' });
    }
  }
  if (isRecord(placement)) {
    const constraints = placement['constraints'];
    if (Array.isArray(constraints)) {
      constraints.forEach((c: unknown, i) => {
        if (isRecord(c)) problems.push(...constraintProblems(c, `/placement/constraints/${i}`, file));
      });
    }
    const spread = placement['spread'];
    if (typeof spread === 'string' && spread !== '') {
      const problem = labelKeyProblem(spread);
      if (problem !== undefined) problems.push({ file, path: '/placement/spread', message: problem });
    }
  }
  return problems;
}

/** What each replica reserves; a part left out reserves (and limits) nothing: 0. Undefined when
 * the service sets no `resources` (read it through resourcesOf: NO_RESOURCES). */
export function toResources(resources: ResourcesInput | undefined): ReplicaResources | undefined {
  if (resources === undefined) return undefined;
  return { cpus: resources.cpus ?? 0, memoryMb: resources.memoryMb ?? 0 };
}

function toConstraint(c: Static<typeof ConstraintSchema>): PlacementConstraint {
  if (c.op === 'in' || c.op === 'notIn') return { label: c.label, op: c.op, values: [...(c.values ?? [])] };
  return { label: c.label, op: c.op };
}

/** The placement as written, `constraints` defaulting to none. Undefined when the service sets no
 * `placement` (read it through placementOf: NO_PLACEMENT). */
export function toPlacement(placement: PlacementInput | undefined): PlacementSpec | undefined {
  if (placement === undefined) return undefined;
  return {
    constraints: (placement.constraints ?? []).map(toConstraint),
    ...(placement.spread === undefined ? {} : { spread: placement.spread }),
  };
}
