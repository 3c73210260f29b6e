// Schema and validation of the `deploy` section of `kind: Service` and `kind: Policy` documents:
// a whole DeployPolicy with every default (DEPLOY_DEFAULTS) filled in, or a reference to a named
// policy. Pure: takes parsed values, returns frozen policies or every problem with its path.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ConfigProblem } from '../errors.js';
import { resolveSurgeAndUnavailable, type IntOrPercent } from '../deploy/plan/rolling.js';
import type { CanaryStep } from '../deploy/plan/canary.js';
import {
  DEPLOY_DEFAULTS,
  type CanaryAnalysisSpec,
  type DeployPolicy,
  type DeployPolicyReference,
  type PreviewSpec,
} from '../model/deploy.js';
import { deepFreeze } from './deep-freeze.js';
import { schemaProblems } from './schema-problems.js';

export const MIN_PROGRESS_DEADLINE_MS = 1_000;
export const MAX_PROGRESS_DEADLINE_MS = 86_400_000;
export const MAX_REVISION_HISTORY_LIMIT = 100;
export const MAX_CANARY_STEPS = 50;
/** Upper bound of every other wait (minReady, promote and scale-down delays, pauses): a day. */
export const MAX_WAIT_MS = 86_400_000;
export const MIN_ANALYSIS_INTERVAL_MS = 100;
export const MAX_ANALYSIS_INTERVAL_MS = 3_600_000;
/** A surge or unavailable count; as many as a service may have replicas (MAX_REPLICAS). */
const MAX_ROLLING_COUNT = 1_000;

// Same rule as service, policy and route names (service-schema.ts, route-schema.ts; a test keeps
// them in step). Repeated here because service-schema imports this module.
const POLICY_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const POLICY_NAME_PROBLEM = 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit';

/** RFC 9110 `token`: the characters a header name may hold. */
const HEADER_TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** Visible ASCII with inner spaces: a header value that survives every hop unchanged. */
const HEADER_VALUE_PATTERN = '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$';

const IntOrPercentSchema = Type.Union(
  [Type.Integer({ minimum: 0, maximum: MAX_ROLLING_COUNT }), Type.String({ pattern: '^[0-9]{1,4}%$' })],
  { problem: `must be a count from 0 to ${MAX_ROLLING_COUNT} or a whole percentage like '25%'` },
);

const Wait = (fallback: number) => Type.Integer({ minimum: 0, maximum: MAX_WAIT_MS, default: fallback });

export const RollingSchema = Type.Object(
  {
    maxSurge: Type.Optional(IntOrPercentSchema),
    maxUnavailable: Type.Optional(IntOrPercentSchema),
    minReadyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_MS, default: DEPLOY_DEFAULTS.rolling.minReadyMs })),
  },
  { additionalProperties: false },
);

export const PreviewObjectSchema = Type.Object(
  {
    header: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        pattern: HEADER_TOKEN_PATTERN,
        problem: "must be an HTTP header name: letters, digits and !#$%&'*+-.^_`|~",
        default: DEPLOY_DEFAULTS.preview.header,
      }),
    ),
    value: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        pattern: HEADER_VALUE_PATTERN,
        problem: 'must be a non-empty header value of printable ASCII, without leading or trailing spaces',
        default: DEPLOY_DEFAULTS.preview.value,
      }),
    ),
  },
  { additionalProperties: false },
);

/** `true`: the default header and value; `false`: no preview. */
export const PreviewSchema = Type.Union([Type.Boolean(), PreviewObjectSchema]);

export const SetWeightStepSchema = Type.Object({ setWeight: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false });

export const PauseStepSchema = Type.Object(
  { pause: Type.Object({ durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_MS })) }, { additionalProperties: false }) },
  { additionalProperties: false },
);

export const CanaryStepSchema = Type.Union([SetWeightStepSchema, PauseStepSchema]);

export const AnalysisSchema = Type.Object(
  {
    intervalMs: Type.Optional(
      Type.Integer({ minimum: MIN_ANALYSIS_INTERVAL_MS, maximum: MAX_ANALYSIS_INTERVAL_MS, default: DEPLOY_DEFAULTS.analysis.intervalMs }),
    ),
    minRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: DEPLOY_DEFAULTS.analysis.minRequests })),
    failureLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000, default: DEPLOY_DEFAULTS.analysis.failureLimit })),
    /** Lowest acceptable non-5xx share of the canary's answers (minSuccessRate in the model). */
    successRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    latency: Type.Optional(
      Type.Object(
        {
          percentile: Type.Optional(Type.Union([Type.Literal('p99'), Type.Literal('p95')], { default: DEPLOY_DEFAULTS.analysis.latencyPercentile })),
          maxMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The written-out form, with `steps` items and `preview` as given (the precise schemas for
 * documentation; validation checks them one by one, so problems point inside them). */
function inlineSchema<S extends TSchema, P extends TSchema>(step: S, preview: P) {
  return Type.Object(
    {
      strategy: Type.Optional(
        Type.Union([Type.Literal('rolling'), Type.Literal('blue-green'), Type.Literal('canary')], { default: DEPLOY_DEFAULTS.strategy }),
      ),
      progressDeadlineMs: Type.Optional(
        Type.Integer({ minimum: MIN_PROGRESS_DEADLINE_MS, maximum: MAX_PROGRESS_DEADLINE_MS, default: DEPLOY_DEFAULTS.progressDeadlineMs }),
      ),
      autoRollback: Type.Optional(Type.Boolean({ default: DEPLOY_DEFAULTS.autoRollback })),
      revisionHistoryLimit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: MAX_REVISION_HISTORY_LIMIT, default: DEPLOY_DEFAULTS.revisionHistoryLimit }),
      ),
      rolling: Type.Optional(RollingSchema),
      blueGreen: Type.Optional(
        Type.Object(
          {
            autoPromote: Type.Optional(Type.Boolean({ default: DEPLOY_DEFAULTS.blueGreen.autoPromote })),
            autoPromoteDelayMs: Type.Optional(Wait(DEPLOY_DEFAULTS.blueGreen.autoPromoteDelayMs)),
            scaleDownDelayMs: Type.Optional(Wait(DEPLOY_DEFAULTS.blueGreen.scaleDownDelayMs)),
            preview: Type.Optional(preview),
          },
          { additionalProperties: false },
        ),
      ),
      canary: Type.Optional(
        Type.Object(
          {
            steps: Type.Optional(Type.Array(step, { minItems: 1, maxItems: MAX_CANARY_STEPS })),
            stickySessions: Type.Optional(Type.Boolean({ default: DEPLOY_DEFAULTS.canary.stickySessions })),
            analysis: Type.Optional(AnalysisSchema),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
}

/** A deploy policy written out (for OpenAPI and readers; validation goes through validateDeploySection). */
export const DeployPolicySchema = inlineSchema(CanaryStepSchema, PreviewSchema);
export type DeployPolicyInput = Static<typeof DeployPolicySchema>;

/** `deploy: { policy: NAME }`. */
export const DeployReferenceSchema = Type.Object(
  { policy: Type.String({ pattern: POLICY_NAME_PATTERN, problem: POLICY_NAME_PROBLEM }) },
  { additionalProperties: false },
);

/** What a service's `deploy` may hold; a policy's `deploy` is DeployPolicySchema only. */
export const DeploySectionSchema = Type.Union([DeployReferenceSchema, DeployPolicySchema]);

/** DeployPolicySchema with steps and preview left to the checks below. */
const InlineShapeSchema = inlineSchema(Type.Unknown(), Type.Unknown());

export type DeployValidation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: ConfigProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(problems: readonly ConfigProblem[], basePath: string): ConfigProblem[] {
  return problems.map((p) => ({ ...p, path: `${basePath}${p.path}` }));
}

function stepProblems(step: unknown, file: string, path: string): ConfigProblem[] {
  const keys = isRecord(step) ? Object.keys(step) : [];
  const kinds = keys.filter((k) => k === 'setWeight' || k === 'pause');
  if (!isRecord(step) || kinds.length !== 1) {
    return [{ file, path, message: "must hold exactly one of 'setWeight' (a percentage) or 'pause' ({} or {durationMs})" }];
  }
  if (step['pause'] === null) {
    return [{ file, path: `${path}/pause`, message: 'must be a mapping: {} waits for resume or promote, {durationMs: N} waits N ms' }];
  }
  return at(schemaProblems(kinds[0] === 'setWeight' ? SetWeightStepSchema : PauseStepSchema, step, file), path);
}

function previewProblems(preview: unknown, file: string, path: string): ConfigProblem[] {
  if (typeof preview === 'boolean') return [];
  if (!isRecord(preview)) return [{ file, path, message: 'must be true, false or a mapping {header, value}' }];
  return at(schemaProblems(PreviewObjectSchema, preview, file), path);
}

function isIntOrPercent(value: unknown): value is IntOrPercent {
  return (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^[0-9]{1,4}%$/.test(value));
}

/** Problems TypeBox cannot express, each checked only where the fields it reads are well formed. */
function semanticProblems(value: Record<string, unknown>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const rolling = isRecord(value['rolling']) ? value['rolling'] : {};
  const maxSurge = rolling['maxSurge'] ?? DEPLOY_DEFAULTS.rolling.maxSurge;
  const maxUnavailable = rolling['maxUnavailable'] ?? DEPLOY_DEFAULTS.rolling.maxUnavailable;
  if (isIntOrPercent(maxSurge) && isIntOrPercent(maxUnavailable)) {
    // The planner's own rule (resolveSurgeAndUnavailable), judged on the values as written.
    const resolved = resolveSurgeAndUnavailable(0, maxSurge, maxUnavailable);
    if (!resolved.ok && resolved.reason === 'both-zero') problems.push({ file, path: '/rolling', message: resolved.message });
  }
  if (typeof maxUnavailable === 'string' && isIntOrPercent(maxUnavailable) && Number.parseInt(maxUnavailable, 10) > 100) {
    problems.push({ file, path: '/rolling/maxUnavailable', message: "must be at most '100%'" });
  }
  const minReadyMs = rolling['minReadyMs'];
  const progressDeadlineMs = value['progressDeadlineMs'] ?? DEPLOY_DEFAULTS.progressDeadlineMs;
  if (typeof minReadyMs === 'number' && typeof progressDeadlineMs === 'number' && minReadyMs >= progressDeadlineMs) {
    // As Kubernetes' validation: a replica could never count as available before the deadline.
    problems.push({ file, path: '/rolling/minReadyMs', message: `must be less than progressDeadlineMs (${progressDeadlineMs})` });
  }

  const blueGreen = value['blueGreen'];
  if (isRecord(blueGreen) && blueGreen['preview'] !== undefined) {
    problems.push(...previewProblems(blueGreen['preview'], file, '/blueGreen/preview'));
  }

  const canary = value['canary'];
  if (isRecord(canary)) {
    const steps = canary['steps'];
    if (Array.isArray(steps) && steps.length <= MAX_CANARY_STEPS) {
      steps.forEach((step: unknown, i) => problems.push(...stepProblems(step, file, `/canary/steps/${i}`)));
    }
    const analysis = canary['analysis'];
    if (isRecord(analysis) && analysis['successRate'] === undefined && analysis['latency'] === undefined) {
      problems.push({
        file,
        path: '/canary/analysis',
        message: "needs 'successRate', 'latency' or both: without a threshold every interval would pass",
      });
    }
  }
  return problems;
}

function toStep(step: CanaryStep): CanaryStep {
  if ('setWeight' in step) return { setWeight: step.setWeight };
  return { pause: step.pause.durationMs === undefined ? {} : { durationMs: step.pause.durationMs } };
}

function toPreview(preview: Static<typeof PreviewSchema> | undefined): PreviewSpec | undefined {
  if (preview === undefined || preview === false) return undefined;
  const written = preview === true ? {} : preview;
  return {
    header: (written.header ?? DEPLOY_DEFAULTS.preview.header).toLowerCase(),
    value: written.value ?? DEPLOY_DEFAULTS.preview.value,
  };
}

function toAnalysis(analysis: Static<typeof AnalysisSchema> | undefined): CanaryAnalysisSpec | undefined {
  if (analysis === undefined) return undefined;
  const defaults = DEPLOY_DEFAULTS.analysis;
  const { successRate, latency } = analysis;
  return {
    intervalMs: analysis.intervalMs ?? defaults.intervalMs,
    minRequests: analysis.minRequests ?? defaults.minRequests,
    failureLimit: analysis.failureLimit ?? defaults.failureLimit,
    ...(successRate === undefined ? {} : { minSuccessRate: successRate }),
    ...(latency === undefined ? {} : { latency: { percentile: latency.percentile ?? defaults.latencyPercentile, maxMs: latency.maxMs } }),
  };
}

function toDeployPolicy(doc: DeployPolicyInput): DeployPolicy {
  const d = DEPLOY_DEFAULTS;
  const { rolling = {}, blueGreen = {}, canary = {} } = doc;
  const preview = toPreview(blueGreen.preview);
  const analysis = toAnalysis(canary.analysis);
  return {
    strategy: doc.strategy ?? d.strategy,
    progressDeadlineMs: doc.progressDeadlineMs ?? d.progressDeadlineMs,
    autoRollback: doc.autoRollback ?? d.autoRollback,
    revisionHistoryLimit: doc.revisionHistoryLimit ?? d.revisionHistoryLimit,
    rolling: {
      // The pattern checked the `N%` form.
      maxSurge: (rolling.maxSurge as IntOrPercent | undefined) ?? d.rolling.maxSurge,
      maxUnavailable: (rolling.maxUnavailable as IntOrPercent | undefined) ?? d.rolling.maxUnavailable,
      minReadyMs: rolling.minReadyMs ?? d.rolling.minReadyMs,
    },
    blueGreen: {
      autoPromote: blueGreen.autoPromote ?? d.blueGreen.autoPromote,
      autoPromoteDelayMs: blueGreen.autoPromoteDelayMs ?? d.blueGreen.autoPromoteDelayMs,
      scaleDownDelayMs: blueGreen.scaleDownDelayMs ?? d.blueGreen.scaleDownDelayMs,
      ...(preview === undefined ? {} : { preview }),
    },
    canary: {
      steps: (canary.steps ?? d.canary.steps).map(toStep),
      stickySessions: canary.stickySessions ?? d.canary.stickySessions,
      ...(analysis === undefined ? {} : { analysis }),
    },
  };
}

/**
 * Validates a written-out deploy policy (the only form a `kind: Policy` may hold). Every problem
 * names `file` and its JSON path under `basePath`; all are reported. A `policy` key is a problem:
 * a named policy cannot refer to another one.
 */
export function validateDeployPolicy(value: unknown, file: string, basePath = '/deploy'): DeployValidation<DeployPolicy> {
  if (!isRecord(value)) return { ok: false, problems: [{ file, path: basePath, message: 'must be a mapping of keys to values' }] };
  if ('policy' in value) {
    return { ok: false, problems: [{ file, path: `${basePath}/policy`, message: 'a named policy must write its deploy section out: it cannot refer to another policy' }] };
  }
  const problems = [...schemaProblems(InlineShapeSchema, value, file), ...semanticProblems(value, file)];
  if (problems.length > 0) return { ok: false, problems: at(problems, basePath) };
  return { ok: true, value: deepFreeze(toDeployPolicy(value as DeployPolicyInput)) };
}

/**
 * Validates the `deploy` section of a service: a written-out policy, every field optional with
 * its default from DEPLOY_DEFAULTS, or a reference `{ policy: NAME }` (only that key) that the
 * set check resolves against the folder's `kind: Policy` documents. Every problem names `file`
 * and its JSON path under `basePath`. On success the value is frozen; a policy has all three
 * strategy sections (so a deploy can switch strategy) and `blueGreen.preview` normalised to a
 * lower-case `{header, value}` or left out.
 *
 * Worked examples (the tests reuse them), at basePath `/deploy`:
 * - `{}` -> DEFAULT_DEPLOY_POLICY: rolling, maxSurge/maxUnavailable '25%', deadline 600 000 ms.
 * - `{strategy: canary, canary: {analysis: {successRate: 0.99}}}` -> the default steps
 *   [20, pause 30 s, 50, pause 30 s]; analysis every 10 000 ms, at least 50 requests,
 *   failureLimit 0, minSuccessRate 0.99, no latency threshold.
 * - `{rolling: {maxSurge: 0, maxUnavailable: '0%'}}` -> problem at /deploy/rolling: "maxSurge and
 *   maxUnavailable may not both be 0" (the rollout could never move).
 * - `{rolling: {maxSurge: 0}}` -> fine: maxUnavailable keeps its default '25%'.
 * - `{rolling: {maxSurge: '1.5%'}}` -> problem at /deploy/rolling/maxSurge.
 * - `{blueGreen: {preview: true}}` -> preview {header: 'x-dockmaster-preview', value: '1'};
 *   `{preview: {header: X-Preview}}` -> {header: 'x-preview', value: '1'}; `false` -> none.
 * - `{canary: {steps: [{setWeight: 20, pause: {}}]}}` -> problem at /deploy/canary/steps/0.
 * - `{canary: {analysis: {minRequests: 10}}}` -> problem at /deploy/canary/analysis: no threshold.
 * - `{policy: careful}` -> the reference `{policy: 'careful'}`; `{policy: careful, strategy:
 *   canary}` -> problem at /deploy/strategy (a reference holds only `policy`).
 */
export function validateDeploySection(
  value: unknown,
  file: string,
  basePath = '/deploy',
): DeployValidation<DeployPolicy | DeployPolicyReference> {
  if (!isRecord(value) || !('policy' in value)) return validateDeployPolicy(value, file, basePath);
  const problems = schemaProblems(DeployReferenceSchema, value, file).map((p) =>
    p.path === '/policy' ? p : { ...p, message: `${p.message}: a reference to a named policy holds only 'policy'` },
  );
  if (problems.length > 0) return { ok: false, problems: at(problems, basePath) };
  return { ok: true, value: deepFreeze({ policy: value['policy'] as string }) };
}
