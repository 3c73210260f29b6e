// Schema and validation of the `autoscale` section of `kind: Service` and `kind: Policy`
// documents: a whole AutoscalePolicy with every default (AUTOSCALE_DEFAULTS) filled in, or a
// reference to a named policy. Pure: takes parsed values, returns frozen policies or every problem.
import { Type, type Static } from '@sinclair/typebox';
import type { ConfigProblem } from '../errors.js';
import { AUTOSCALE_DEFAULTS, type AutoscalePolicy, type ScalingBehavior, type ScalingRule } from '../model/autoscale.js';
import { deepFreeze } from './deep-freeze.js';
import { DeployReferenceSchema } from './deploy-schema.js';
import { schemaProblems } from './schema-problems.js';

/** MAX_REPLICAS of service-schema.ts, which imports this module (a test keeps them in step). */
export const MAX_AUTOSCALE_REPLICAS = 1_000;
/** minReplicas when the section sets none: autoscaling never scales to zero unless asked to. */
export const DEFAULT_MIN_REPLICAS = 1;
export const MAX_TARGET_RPS = 1_000_000;
export const MAX_TARGET_LATENCY_MS = 600_000;
export const MAX_TARGET_CONCURRENCY = 100_000;
export const MIN_SYNC_INTERVAL_MS = 100;
export const MAX_SYNC_INTERVAL_MS = 60_000;
/** Upper bound of the stable, panic and stabilization windows: an hour, as the HPA's
 * stabilizationWindowSeconds. */
export const MAX_WINDOW_MS = 3_600_000;
/** A rate policy's period, as the HPA's periodSeconds (1..1800). */
export const MIN_PERIOD_MS = 1_000;
export const MAX_PERIOD_MS = 1_800_000;
/** A rate policy's value: a percentage, or replicas (at most MAX_AUTOSCALE_REPLICAS). */
export const MAX_RULE_VALUE = 1_000;
export const MAX_SCALING_RULES = 10;
/** Knative's highest panic threshold (1000%). */
export const MAX_PANIC_THRESHOLD = 10;
export const MIN_IDLE_MS = 1_000;
export const MAX_IDLE_MS = 86_400_000;
export const MAX_HOLD_QUEUE = 100_000;
export const MIN_HOLD_TIMEOUT_MS = 100;
export const MAX_HOLD_TIMEOUT_MS = 600_000;

const TARGET_KEYS = ['targetRps', 'targetLatencyP95Ms', 'targetConcurrency'] as const;

/** A Prometheus source's request timeout (the whole query), and its default. */
export const MIN_SOURCE_TIMEOUT_MS = 100;
export const MAX_SOURCE_TIMEOUT_MS = 60_000;
export const DEFAULT_SOURCE_TIMEOUT_MS = 2_000;
export const MAX_PROMQL_LENGTH = 4_096;
/** The query each target needs from a Prometheus source. */
const QUERY_OF_TARGET = { targetRps: 'rps', targetLatencyP95Ms: 'p95Ms', targetConcurrency: 'concurrency' } as const;
/** http(s)://host[:port][/path prefix]: a DNS name, IPv4 or bracketed IPv6 host, no query or fragment. */
export const PROMETHEUS_ADDRESS_PATTERN = '^https?://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$';

const PromqlSchema = Type.String({ minLength: 1, maxLength: MAX_PROMQL_LENGTH });

export const PrometheusSourceSchema = Type.Object(
  {
    address: Type.String({
      pattern: PROMETHEUS_ADDRESS_PATTERN,
      maxLength: 2_048,
      problem: 'must be an http(s) URL of a Prometheus server: http(s)://host:port, optionally with a path prefix',
    }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: MIN_SOURCE_TIMEOUT_MS, maximum: MAX_SOURCE_TIMEOUT_MS, default: DEFAULT_SOURCE_TIMEOUT_MS })),
    queries: Type.Object(
      { rps: Type.Optional(PromqlSchema), p95Ms: Type.Optional(PromqlSchema), concurrency: Type.Optional(PromqlSchema) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const ScalingRuleSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('percent'), Type.Literal('replicas')]),
    value: Type.Integer({ minimum: 1, maximum: MAX_RULE_VALUE }),
    periodMs: Type.Integer({ minimum: MIN_PERIOD_MS, maximum: MAX_PERIOD_MS }),
  },
  { additionalProperties: false },
);

function behaviorSchema(defaults: ScalingBehavior) {
  return Type.Object(
    {
      stabilizationWindowMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WINDOW_MS, default: defaults.stabilizationWindowMs })),
      policies: Type.Optional(Type.Array(ScalingRuleSchema, { minItems: 1, maxItems: MAX_SCALING_RULES })),
      selectPolicy: Type.Optional(
        Type.Union([Type.Literal('max'), Type.Literal('min'), Type.Literal('disabled')], { default: defaults.selectPolicy }),
      ),
    },
    { additionalProperties: false },
  );
}

/** A written-out autoscale policy (the only form a `kind: Policy` may hold). */
export const AutoscalePolicySchema = Type.Object(
  {
    minReplicas: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AUTOSCALE_REPLICAS, default: DEFAULT_MIN_REPLICAS })),
    maxReplicas: Type.Integer({ minimum: 1, maximum: MAX_AUTOSCALE_REPLICAS }),
    targetRps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_TARGET_RPS })),
    targetLatencyP95Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_TARGET_LATENCY_MS })),
    targetConcurrency: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_TARGET_CONCURRENCY })),
    tolerance: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: AUTOSCALE_DEFAULTS.tolerance })),
    syncIntervalMs: Type.Optional(
      Type.Integer({ minimum: MIN_SYNC_INTERVAL_MS, maximum: MAX_SYNC_INTERVAL_MS, default: AUTOSCALE_DEFAULTS.syncIntervalMs }),
    ),
    stableWindowMs: Type.Optional(
      Type.Integer({ minimum: MIN_SYNC_INTERVAL_MS, maximum: MAX_WINDOW_MS, default: AUTOSCALE_DEFAULTS.stableWindowMs }),
    ),
    scaleUp: Type.Optional(behaviorSchema(AUTOSCALE_DEFAULTS.scaleUp)),
    scaleDown: Type.Optional(behaviorSchema(AUTOSCALE_DEFAULTS.scaleDown)),
    panic: Type.Optional(
      Type.Object(
        {
          windowMs: Type.Optional(Type.Integer({ minimum: MIN_SYNC_INTERVAL_MS, maximum: MAX_WINDOW_MS, default: AUTOSCALE_DEFAULTS.panic.windowMs })),
          threshold: Type.Optional(Type.Number({ exclusiveMinimum: 1, maximum: MAX_PANIC_THRESHOLD, default: AUTOSCALE_DEFAULTS.panic.threshold })),
        },
        { additionalProperties: false },
      ),
    ),
    scaleToZero: Type.Optional(
      Type.Object({ idleMs: Type.Integer({ minimum: MIN_IDLE_MS, maximum: MAX_IDLE_MS }) }, { additionalProperties: false }),
    ),
    hold: Type.Optional(
      Type.Object(
        {
          maxQueue: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_HOLD_QUEUE, default: AUTOSCALE_DEFAULTS.hold.maxQueue })),
          holdTimeoutMs: Type.Optional(
            Type.Integer({ minimum: MIN_HOLD_TIMEOUT_MS, maximum: MAX_HOLD_TIMEOUT_MS, default: AUTOSCALE_DEFAULTS.hold.holdTimeoutMs }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    source: Type.Optional(Type.Object({ prometheus: PrometheusSourceSchema }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type AutoscalePolicyInput = Static<typeof AutoscalePolicySchema>;

/** `autoscale: { policy: NAME }`: the same form, and name rule, as a deploy reference. */
export const AutoscaleReferenceSchema = DeployReferenceSchema;

/** What a service's `autoscale` may hold; a policy's `autoscale` is AutoscalePolicySchema only. */
export const AutoscaleSectionSchema = Type.Union([AutoscaleReferenceSchema, AutoscalePolicySchema]);

/** `autoscale: { policy: NAME }`: the autoscale section of the `kind: Policy` document named NAME. */
export interface AutoscalePolicyReference {
  readonly policy: string;
}

/** True for the reference form of an `autoscale` section (as written, before resolution). */
export function isAutoscalePolicyReference(autoscale: AutoscalePolicy | AutoscalePolicyReference): autoscale is AutoscalePolicyReference {
  return 'policy' in autoscale;
}

export type AutoscaleValidation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: ConfigProblem[] };

// schemaProblems words only closed ranges ("from 0 to 1"); these fields have an open bound, so
// any problem at their path gets the whole rule instead.
const OPEN_RANGE_PROBLEMS: Readonly<Record<string, string>> = {
  '/targetRps': `must be a number greater than 0 and at most ${MAX_TARGET_RPS}`,
  '/targetLatencyP95Ms': `must be a number greater than 0 and at most ${MAX_TARGET_LATENCY_MS}`,
  '/targetConcurrency': `must be a number greater than 0 and at most ${MAX_TARGET_CONCURRENCY}`,
  '/tolerance': 'must be a number of at least 0 and less than 1',
  '/panic/threshold': `must be a number greater than 1 and at most ${MAX_PANIC_THRESHOLD}`,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function at(problems: readonly ConfigProblem[], basePath: string): ConfigProblem[] {
  return problems.map((p) => ({ ...p, path: `${basePath}${p.path}` }));
}

interface OrderedField {
  /** Its path under the section; a field with a schema problem there is not judged again. */
  readonly path: string;
  readonly name: string;
  readonly written: unknown;
  readonly fallback: number;
}

/**
 * `lower <= upper` (`<` when `strict`), judged on the values in effect, defaults included. Reported
 * at the field the rule is phrased on when it is written out, else at the other one.
 */
function orderProblem(
  file: string,
  lower: OrderedField,
  upper: OrderedField,
  strict: boolean,
  phrasedOn: 'lower' | 'upper',
  broken: ReadonlySet<string>,
): ConfigProblem | undefined {
  if (lower.written === undefined && upper.written === undefined) return undefined;
  if (broken.has(lower.path) || broken.has(upper.path)) return undefined;
  const low = isInteger(lower.written) ? lower.written : lower.fallback;
  const high = isInteger(upper.written) ? upper.written : upper.fallback;
  if (strict ? low < high : low <= high) return undefined;
  const defaulted = (field: OrderedField) => (field.written === undefined ? ', the default' : '');
  if (upper.written !== undefined && (phrasedOn === 'upper' || lower.written === undefined)) {
    return { file, path: upper.path, message: `must be ${strict ? 'greater than' : 'at least'} ${lower.name} (${low}${defaulted(lower)})` };
  }
  return { file, path: lower.path, message: `must be ${strict ? 'less than' : 'at most'} ${upper.name} (${high}${defaulted(upper)})` };
}

/** min <= max, and minReplicas 0 exactly when scaleToZero is set. */
function replicaProblems(value: Record<string, unknown>, file: string, broken: ReadonlySet<string>): ConfigProblem[] {
  if (broken.has('/minReplicas')) return [];
  const problems: ConfigProblem[] = [];
  const minReplicas = (value['minReplicas'] as number | undefined) ?? DEFAULT_MIN_REPLICAS;
  const maxReplicas = value['maxReplicas'];
  if (!broken.has('/maxReplicas') && isInteger(maxReplicas) && minReplicas > maxReplicas) {
    problems.push({ file, path: '/maxReplicas', message: `must be at least minReplicas (${minReplicas})` });
  }
  if (minReplicas === 0 && value['scaleToZero'] === undefined) {
    problems.push({ file, path: '/minReplicas', message: "0 needs 'scaleToZero: {idleMs: N}': how long a service must be idle before it drains to zero" });
  }
  if (minReplicas > 0 && value['scaleToZero'] !== undefined) {
    problems.push({ file, path: '/scaleToZero', message: `applies only with minReplicas 0 (minReplicas is ${minReplicas})` });
  }
  return problems;
}

/** The stable window holds several syncs' samples; the panic window is the short one inside it. */
function windowProblems(value: Record<string, unknown>, file: string, broken: ReadonlySet<string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const stable = { path: '/stableWindowMs', name: 'stableWindowMs', written: value['stableWindowMs'], fallback: AUTOSCALE_DEFAULTS.stableWindowMs };
  const sync = { path: '/syncIntervalMs', name: 'syncIntervalMs', written: value['syncIntervalMs'], fallback: AUTOSCALE_DEFAULTS.syncIntervalMs };
  const panic = isRecord(value['panic']) ? value['panic'] : {};
  const panicWindow = { path: '/panic/windowMs', name: 'panic.windowMs', written: panic['windowMs'], fallback: AUTOSCALE_DEFAULTS.panic.windowMs };
  for (const problem of [orderProblem(file, sync, stable, false, 'upper', broken), orderProblem(file, panicWindow, stable, true, 'lower', broken)]) {
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

/** A Prometheus source has a query for every target the policy sets. */
function sourceProblems(value: Record<string, unknown>, file: string, broken: ReadonlySet<string>): ConfigProblem[] {
  const source = value['source'];
  const prometheus = isRecord(source) ? source['prometheus'] : undefined;
  const queries = isRecord(prometheus) ? prometheus['queries'] : undefined;
  if (!isRecord(queries) || broken.has('/source/prometheus/queries')) return [];
  const problems: ConfigProblem[] = [];
  for (const target of TARGET_KEYS) {
    const query = QUERY_OF_TARGET[target];
    if (value[target] === undefined || queries[query] !== undefined) continue;
    problems.push({ file, path: `/source/prometheus/queries/${query}`, message: `is required: '${target}' is set and the prometheus source needs a query for it` });
  }
  return problems;
}

/** Problems TypeBox cannot express, each checked only where the fields it reads are well formed
 * (`broken`: the paths with a schema problem). */
function semanticProblems(value: Record<string, unknown>, file: string, broken: ReadonlySet<string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (TARGET_KEYS.every((key) => value[key] === undefined)) {
    problems.push({ file, path: '', message: "needs at least one target: 'targetRps', 'targetLatencyP95Ms' or 'targetConcurrency'" });
  }
  return [...problems, ...replicaProblems(value, file, broken), ...windowProblems(value, file, broken), ...sourceProblems(value, file, broken)];
}

function toRule(rule: ScalingRule): ScalingRule {
  return { type: rule.type, value: rule.value, periodMs: rule.periodMs };
}

/** A written behavior merged with its defaults field by field; a written `policies` list replaces the default one. */
function toBehavior(written: Partial<ScalingBehavior> | undefined, defaults: ScalingBehavior): ScalingBehavior {
  return {
    stabilizationWindowMs: written?.stabilizationWindowMs ?? defaults.stabilizationWindowMs,
    policies: (written?.policies ?? defaults.policies).map(toRule),
    selectPolicy: written?.selectPolicy ?? defaults.selectPolicy,
  };
}

function toSource(source: AutoscalePolicyInput['source']): AutoscalePolicy['source'] {
  if (source === undefined) return undefined;
  const { address, timeoutMs, queries } = source.prometheus;
  const { rps, p95Ms, concurrency } = queries;
  return {
    prometheus: {
      address,
      timeoutMs: timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS,
      queries: { ...(rps === undefined ? {} : { rps }), ...(p95Ms === undefined ? {} : { p95Ms }), ...(concurrency === undefined ? {} : { concurrency }) },
    },
  };
}

function toAutoscalePolicy(doc: AutoscalePolicyInput): AutoscalePolicy {
  const d = AUTOSCALE_DEFAULTS;
  const { targetRps, targetLatencyP95Ms, targetConcurrency, scaleToZero } = doc;
  const source = toSource(doc.source);
  return {
    minReplicas: doc.minReplicas ?? DEFAULT_MIN_REPLICAS,
    maxReplicas: doc.maxReplicas,
    ...(targetRps === undefined ? {} : { targetRps }),
    ...(targetLatencyP95Ms === undefined ? {} : { targetLatencyP95Ms }),
    ...(targetConcurrency === undefined ? {} : { targetConcurrency }),
    tolerance: doc.tolerance ?? d.tolerance,
    syncIntervalMs: doc.syncIntervalMs ?? d.syncIntervalMs,
    stableWindowMs: doc.stableWindowMs ?? d.stableWindowMs,
    scaleUp: toBehavior(doc.scaleUp, d.scaleUp),
    scaleDown: toBehavior(doc.scaleDown, d.scaleDown),
    panic: { windowMs: doc.panic?.windowMs ?? d.panic.windowMs, threshold: doc.panic?.threshold ?? d.panic.threshold },
    ...(scaleToZero === undefined ? {} : { scaleToZero: { idleMs: scaleToZero.idleMs } }),
    hold: { maxQueue: doc.hold?.maxQueue ?? d.hold.maxQueue, holdTimeoutMs: doc.hold?.holdTimeoutMs ?? d.hold.holdTimeoutMs },
    ...(source === undefined ? {} : { source }),
  };
}

/**
 * Validates a written-out autoscale policy (the only form a `kind: Policy` may hold). Every
 * problem names `file` and its JSON path under `basePath`; all are reported. A `policy` key is a
 * problem: a named policy cannot refer to another one.
 */
export function validateAutoscalePolicy(value: unknown, file: string, basePath = '/autoscale'): AutoscaleValidation<AutoscalePolicy> {
  if (!isRecord(value)) return { ok: false, problems: [{ file, path: basePath, message: 'must be a mapping of keys to values' }] };
  if ('policy' in value) {
    return { ok: false, problems: [{ file, path: `${basePath}/policy`, message: 'a named policy must write its autoscale section out: it cannot refer to another policy' }] };
  }
  const shapeProblems = schemaProblems(AutoscalePolicySchema, value, file).map((p) => {
    const message = OPEN_RANGE_PROBLEMS[p.path];
    return message === undefined ? p : { ...p, message };
  });
  const problems = [...shapeProblems, ...semanticProblems(value, file, new Set(shapeProblems.map((p) => p.path)))];
  if (problems.length > 0) return { ok: false, problems: at(problems, basePath) };
  return { ok: true, value: deepFreeze(toAutoscalePolicy(value as AutoscalePolicyInput)) };
}

/**
 * Validates the `autoscale` section of a service: a written-out policy (`maxReplicas` and at
 * least one target required, the rest defaulted from AUTOSCALE_DEFAULTS and DEFAULT_MIN_REPLICAS),
 * or a reference `{ policy: NAME }` (only that key) that the set check resolves against the
 * folder's `kind: Policy` documents. Every problem names `file` and its JSON path under
 * `basePath`. On success the value is frozen; `scaleUp` and `scaleDown` are merged with their
 * defaults field by field, a written `policies` list replacing the default list.
 *
 * Worked examples (the tests reuse them), at basePath `/autoscale`:
 * - `{maxReplicas: 10, targetRps: 50}` -> minReplicas 1, tolerance 0.1, sync every 1000 ms, stable
 *   window 60 000 ms, scale-up [100% or 4 replicas per 15 s, the larger], scale-down after a
 *   300 000 ms window [100% per 15 s], panic at 2x over 6000 ms, hold 100 requests for 30 000 ms.
 * - `{..., scaleDown: {selectPolicy: min}}` -> scaleDown keeps its window and policies.
 * - `{..., scaleUp: {policies: [{type: replicas, value: 1, periodMs: 60000}]}}` -> that one rule.
 * - `{minReplicas: 5, maxReplicas: 2, ...}` -> problem at /autoscale/maxReplicas.
 * - `{maxReplicas: 10}` -> problem at /autoscale: no target.
 * - `{minReplicas: 0, ...}` -> problem at /autoscale/minReplicas: needs scaleToZero;
 *   `{scaleToZero: {idleMs: 60000}, ...}` with minReplicas 1 -> problem at /autoscale/scaleToZero.
 * - `{stableWindowMs: 5000, ...}` -> problem at /autoscale/stableWindowMs: not greater than the
 *   default panic window (6000).
 * - `{..., targetRps: 50, source: {prometheus: {address: 'http://127.0.0.1:9090', queries: {rps: 'sum(rate(x[30s]))'}}}}`
 *   -> that source with timeoutMs 2000; without the rps query -> problem at
 *   /autoscale/source/prometheus/queries/rps (every target needs its query).
 * - `{policy: elastic}` -> the reference `{policy: 'elastic'}`; `{policy: elastic, maxReplicas: 3}`
 *   -> problem at /autoscale/maxReplicas (a reference holds only `policy`).
 */
export function validateAutoscaleSection(
  value: unknown,
  file: string,
  basePath = '/autoscale',
): AutoscaleValidation<AutoscalePolicy | AutoscalePolicyReference> {
  if (!isRecord(value) || !('policy' in value)) return validateAutoscalePolicy(value, file, basePath);
  const problems = schemaProblems(AutoscaleReferenceSchema, value, file).map((p) =>
    p.path === '/policy' ? p : { ...p, message: `${p.message}: a reference to a named policy holds only 'policy'` },
  );
  if (problems.length > 0) return { ok: false, problems: at(problems, basePath) };
  return { ok: true, value: deepFreeze({ policy: value['policy'] as string }) };
}
