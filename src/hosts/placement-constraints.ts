// Placement constraints on host labels: whether a host's labels meet them, and how to name them in
// a reason ("zone=b", "zone in (a, b)", "gpu exists"). Pure.
import type { PlacementConstraint } from '../model/host.js';

/** True when the labels meet the constraint (the semantics of Kubernetes node affinity's In,
 * NotIn, Exists and DoesNotExist operators). */
export function constraintHolds(constraint: PlacementConstraint, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, constraint.label);
  switch (constraint.op) {
    case 'in':
      return has && constraint.values.includes(labels[constraint.label] as string);
    case 'notIn':
      return !has || !constraint.values.includes(labels[constraint.label] as string);
    case 'exists':
      return has;
    case 'notExists':
      return !has;
  }
}

/** The first constraint the labels do not meet, in the order written; undefined when all hold. */
export function firstUnmetConstraint(constraints: readonly PlacementConstraint[], labels: Readonly<Record<string, string>>): PlacementConstraint | undefined {
  return constraints.find((c) => !constraintHolds(c, labels));
}

/** `zone=b`, `zone in (a, b)`, `zone!=c`, `zone notIn (c, d)`, `gpu exists`, `gpu notExists`. */
export function describeConstraint(constraint: PlacementConstraint): string {
  switch (constraint.op) {
    case 'in':
      return constraint.values.length === 1 ? `${constraint.label}=${constraint.values[0]}` : `${constraint.label} in (${constraint.values.join(', ')})`;
    case 'notIn':
      return constraint.values.length === 1 ? `${constraint.label}!=${constraint.values[0]}` : `${constraint.label} notIn (${constraint.values.join(', ')})`;
    case 'exists':
    case 'notExists':
      return `${constraint.label} ${constraint.op}`;
  }
}

/** Why a host misses a constraint: `constraint zone=b not met (zone=a)` or `(no zone label)`. */
export function describeUnmet(constraint: PlacementConstraint, labels: Readonly<Record<string, string>>): string {
  const actual = Object.hasOwn(labels, constraint.label) ? `${constraint.label}=${labels[constraint.label]}` : `no ${constraint.label} label`;
  return `constraint ${describeConstraint(constraint)} not met (${actual})`;
}
