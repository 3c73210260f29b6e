// Checks the inputs of placement (the service's demand, the hosts, the allocations) and names every
// problem with its path, so a bad host list or resource spec fails clearly instead of placing
// replicas by NaN arithmetic. Pure.
import type { Allocation, HostSpec, PlacementConstraint, ServiceDemand } from '../model/host.js';

export interface PlacementProblem {
  /** Where: `hosts[1].capacity.cpus`, `service.placement.constraints[0].values`. */
  readonly path: string;
  readonly message: string;
}

const CONSTRAINT_OPS = new Set(['in', 'notIn', 'exists', 'notExists']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkAmount(value: unknown, path: string, problems: PlacementProblem[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) problems.push({ path, message: `must be a finite number >= 0, got ${JSON.stringify(value)}` });
}

function checkName(value: unknown, path: string, problems: PlacementProblem[]): void {
  if (typeof value !== 'string' || value === '') problems.push({ path, message: `must be a non-empty string, got ${JSON.stringify(value)}` });
}

function checkResources(value: unknown, path: string, problems: PlacementProblem[]): void {
  if (!isRecord(value)) {
    problems.push({ path, message: 'must be an object with cpus and memoryMb' });
    return;
  }
  checkAmount(value['cpus'], `${path}.cpus`, problems);
  checkAmount(value['memoryMb'], `${path}.memoryMb`, problems);
}

function checkConstraint(value: unknown, path: string, problems: PlacementProblem[]): void {
  if (!isRecord(value)) {
    problems.push({ path, message: 'must be an object with label and op' });
    return;
  }
  const c = value as Partial<PlacementConstraint> & Record<string, unknown>;
  checkName(c.label, `${path}.label`, problems);
  if (typeof c.op !== 'string' || !CONSTRAINT_OPS.has(c.op)) {
    problems.push({ path: `${path}.op`, message: `must be one of in, notIn, exists, notExists, got ${JSON.stringify(c.op)}` });
    return;
  }
  const values = c['values'];
  if (c.op === 'in' || c.op === 'notIn') {
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) problems.push({ path: `${path}.values`, message: `op ${c.op} needs a non-empty list of strings` });
  } else if (values !== undefined) {
    problems.push({ path: `${path}.values`, message: `op ${c.op} takes no values` });
  }
}

/** Every problem of the inputs; empty when placement can run. Allocations on hosts that are not
 * listed are not a problem (the host left the config): they are ignored. */
export function placementProblems(service: ServiceDemand, hosts: readonly HostSpec[], allocations: readonly Allocation[]): PlacementProblem[] {
  const problems: PlacementProblem[] = [];
  checkName(service.name, 'service.name', problems);
  checkResources(service.resources, 'service.resources', problems);
  const placement: unknown = service.placement;
  if (!isRecord(placement) || !Array.isArray(placement['constraints'])) {
    problems.push({ path: 'service.placement', message: 'must be an object with a constraints list' });
  } else {
    placement['constraints'].forEach((c: unknown, i: number) => checkConstraint(c, `service.placement.constraints[${i}]`, problems));
    if (placement['spread'] !== undefined) checkName(placement['spread'], 'service.placement.spread', problems);
  }

  const seen = new Map<string, number>();
  hosts.forEach((host, i) => {
    const path = `hosts[${i}]`;
    checkName(host.name, `${path}.name`, problems);
    const first = seen.get(host.name);
    if (first !== undefined) problems.push({ path: `${path}.name`, message: `duplicate host name ${JSON.stringify(host.name)} (also hosts[${first}])` });
    else seen.set(host.name, i);
    const capacity: unknown = host.capacity;
    if (!isRecord(capacity)) {
      problems.push({ path: `${path}.capacity`, message: 'must be an object with cpus and memoryMb' });
    } else {
      checkAmount(capacity['cpus'], `${path}.capacity.cpus`, problems);
      checkAmount(capacity['memoryMb'], `${path}.capacity.memoryMb`, problems);
      const max = capacity['maxReplicas'];
      if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 0)) problems.push({ path: `${path}.capacity.maxReplicas`, message: `must be an integer >= 0, got ${JSON.stringify(max)}` });
    }
    const labels: unknown = host.labels;
    if (!isRecord(labels)) problems.push({ path: `${path}.labels`, message: 'must be an object of strings' });
    else for (const [key, v] of Object.entries(labels)) if (typeof v !== 'string') problems.push({ path: `${path}.labels.${key}`, message: `must be a string, got ${JSON.stringify(v)}` });
    if (typeof host.cordoned !== 'boolean') problems.push({ path: `${path}.cordoned`, message: `must be true or false, got ${JSON.stringify(host.cordoned)}` });
  });

  allocations.forEach((a, i) => {
    checkName(a.service, `allocations[${i}].service`, problems);
    checkName(a.host, `allocations[${i}].host`, problems);
    checkResources(a.resources, `allocations[${i}].resources`, problems);
  });
  return problems;
}

/** Throws one error naming every problem (for callers handing placement unchecked input). */
export function assertPlacementInput(service: ServiceDemand, hosts: readonly HostSpec[], allocations: readonly Allocation[]): void {
  const problems = placementProblems(service, hosts, allocations);
  if (problems.length > 0) throw new PlacementInputError(problems);
}

export class PlacementInputError extends Error {
  readonly problems: readonly PlacementProblem[];

  constructor(problems: readonly PlacementProblem[]) {
    super(`invalid placement input: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'PlacementInputError';
    this.problems = problems;
  }
}
