// Schema and validation of the documents of policies/*.yaml: `kind: Service` (and PUT
// /v1/services/:name) and `kind: Policy`, plus the rules of the set as a whole. Pure: takes parsed
// values, returns frozen specs with defaults filled in, or every problem found.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ConfigProblem } from '../errors.js';
import type { AutoscalePolicy } from '../model/autoscale.js';
import { isDeployPolicyReference, type DeployPolicy, type DeployPolicyReference } from '../model/deploy.js';
import { SERVICE_DEFAULTS, type HealthCheckSpec, type ServiceRuntime, type ServiceSpec } from '../model/service.js';
import {
  AutoscalePolicySchema,
  AutoscaleSectionSchema,
  isAutoscalePolicyReference,
  validateAutoscalePolicy,
  validateAutoscaleSection,
  type AutoscalePolicyReference,
} from './autoscale-schema.js';
import { schemaProblems } from './schema-problems.js';
import { deepFreeze } from './deep-freeze.js';
import { DeployPolicySchema, DeploySectionSchema, validateDeployPolicy, validateDeploySection } from './deploy-schema.js';
import { PlacementSchema, ResourcesSchema, resourcesPlacementProblems, toPlacement, toResources } from './placement-schema.js';

/** The kinds a policies/ folder may hold. */
export const POLICY_FOLDER_KINDS = ['Service', 'Policy'] as const;

// Same rule as route names (route-schema.ts; a test keeps the two in step): a DNS label, which is
// also a safe file name, container label and environment value.
const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const NAME_PROBLEM = 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit';
const Name = Type.String({ pattern: NAME_PATTERN, problem: NAME_PROBLEM });

/** What `env` keys may look like (POSIX portable names). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set by dockmaster for every replica (DESIGN.md, replica conventions); a service may not override it. */
export const RESERVED_ENV_NAME = 'PORT';
export const RESERVED_ENV_PREFIX = 'DOCKMASTER_';

export const MAX_REPLICAS = 1000;
export const MAX_STOP_GRACE_MS = 600_000;
export const MAX_DRAIN_TIMEOUT_MS = 600_000;
const MAX_IMAGE_LENGTH = 512;
const MAX_IMAGE_NAME_LENGTH = 255;

/** A free label of what runs (`1.4.2`, `2024-06-01.3`): it travels in an environment variable
 * and a revision hash, so printable ASCII without spaces. */
const Version = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7e]+$',
  problem: 'must be 1 to 128 printable ASCII characters without spaces, e.g. 1.4.2',
});

export const ProcessRuntimeSchema = Type.Object(
  {
    type: Type.Literal('process'),
    command: Type.Array(Type.String({ maxLength: 4096 }), {
      minItems: 1,
      maxItems: 256,
      problem: 'must list the program and its arguments, e.g. [node, app.mjs]',
    }),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);

export const DockerRuntimeSchema = Type.Object(
  {
    type: Type.Literal('docker'),
    image: Type.String({ minLength: 1, maxLength: MAX_IMAGE_LENGTH }),
    network: Type.Optional(Type.Union([Type.Literal('host'), Type.Literal('bridge')], { default: SERVICE_DEFAULTS.docker.network })),
    pull: Type.Optional(
      Type.Union([Type.Literal('never'), Type.Literal('if-missing'), Type.Literal('always')], { default: SERVICE_DEFAULTS.docker.pull }),
    ),
  },
  { additionalProperties: false },
);

const RUNTIME_SCHEMAS: Readonly<Record<ServiceRuntime['type'], TSchema>> = {
  process: ProcessRuntimeSchema,
  docker: DockerRuntimeSchema,
};

export const HealthSchema = Type.Object(
  {
    // Printable ASCII without '#': the path (and query) the prober requests as is.
    path: Type.Optional(
      Type.String({
        maxLength: 1024,
        pattern: '^/[\\x21\\x22\\x24-\\x7e]*$',
        problem: "must be a path starting with '/', without spaces, '#', control or non-ASCII characters",
        default: SERVICE_DEFAULTS.health.path,
      }),
    ),
    intervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, default: SERVICE_DEFAULTS.health.intervalMs })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, default: SERVICE_DEFAULTS.health.timeoutMs })),
    healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: SERVICE_DEFAULTS.health.healthyThreshold })),
    unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: SERVICE_DEFAULTS.health.unhealthyThreshold })),
  },
  { additionalProperties: false },
);

const serviceProperties = {
  kind: Type.Literal('Service'),
  name: Name,
  runtime: Type.Union([ProcessRuntimeSchema, DockerRuntimeSchema]),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, default: SERVICE_DEFAULTS.port })),
  env: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 32_768 }), { maxProperties: 256 })),
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_REPLICAS, default: SERVICE_DEFAULTS.replicas })),
  health: Type.Optional(HealthSchema),
  stopGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_STOP_GRACE_MS, default: SERVICE_DEFAULTS.stopGraceMs })),
  drainTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DRAIN_TIMEOUT_MS, default: SERVICE_DEFAULTS.drainTimeoutMs })),
  version: Type.Optional(Version),
  deploy: Type.Optional(DeploySectionSchema),
  autoscale: Type.Optional(AutoscaleSectionSchema),
  resources: Type.Optional(ResourcesSchema),
  placement: Type.Optional(PlacementSchema),
};

/** The `kind: Service` document (for OpenAPI and readers; validation goes through validateServiceSpec). */
export const ServiceSchema = Type.Object(serviceProperties, { additionalProperties: false });
export type ServiceDocumentInput = Static<typeof ServiceSchema>;

/** ServiceSchema with `runtime` checked only for its `type`, and `deploy` and `autoscale` left to
 * validateDeploySection and validateAutoscaleSection; each is then checked on its own, so problems
 * point into them (`/runtime/image`, `/deploy/rolling/maxSurge`, `/autoscale/maxReplicas`) instead
 * of "does not match any allowed form". */
const ServiceShapeSchema = Type.Object(
  {
    ...serviceProperties,
    runtime: Type.Object({ type: Type.Union([Type.Literal('process'), Type.Literal('docker')]) }, { additionalProperties: true }),
    deploy: Type.Optional(Type.Unknown()),
    autoscale: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

const policyProperties = {
  kind: Type.Literal('Policy'),
  name: Name,
  deploy: Type.Optional(DeployPolicySchema),
  autoscale: Type.Optional(AutoscalePolicySchema),
};

export const PolicySchema = Type.Object(policyProperties, { additionalProperties: false });

const PolicyShapeSchema = Type.Object(
  { ...policyProperties, deploy: Type.Optional(Type.Unknown()), autoscale: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);

/**
 * A validated service as the store keeps it and the API echoes it: the model's ServiceSpec with
 * `deploy` and `autoscale` as written (each a whole policy with defaults filled in, or a
 * reference to a named policy). resolveServices turns it into a ResolvedService.
 */
export interface ServiceDocument extends Omit<ServiceSpec, 'deploy' | 'autoscale'> {
  readonly deploy?: DeployPolicy | DeployPolicyReference | undefined;
  readonly autoscale?: AutoscalePolicy | AutoscalePolicyReference | undefined;
}

/** A service as the store publishes it: `deploy` and `autoscale` resolved (a reference replaced
 * by that section of the named policy), so it is a ServiceSpec. */
export type ResolvedService = ServiceSpec;

/** A named deploy and/or autoscale policy (`kind: Policy`) that services refer to with
 * `deploy: { policy: NAME }` and `autoscale: { policy: NAME }`. */
export interface PolicySpec {
  readonly kind: 'Policy';
  readonly name: string;
  readonly deploy?: DeployPolicy | undefined;
  readonly autoscale?: AutoscalePolicy | undefined;
}

/** Any document of a policies/ folder. */
export type PolicyFolderDocument = ServiceDocument | PolicySpec;

export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: ConfigProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

// Docker's reference grammar (distribution/reference, `reference.go`): [domain[:port]/]path[:tag][@digest].
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_REFERENCE = new RegExp(`^(${IMAGE_NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/** Why `image` is not a Docker image reference, or undefined when it is one. */
export function imageReferenceProblem(image: string): string | undefined {
  const match = IMAGE_REFERENCE.exec(image);
  if (match === null) {
    return (
      "must be a Docker image reference like 'node:20-slim' or 'registry.example.com:5000/team/app:1.2' " +
      '(lower-case repository path, optional :tag and @digest)'
    );
  }
  if ((match[1] ?? '').length > MAX_IMAGE_NAME_LENGTH) return `must have a repository name of at most ${MAX_IMAGE_NAME_LENGTH} characters`;
  return undefined;
}

function envProblems(env: Record<string, unknown>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(env)) {
    const path = `/env/${pointerKey(key)}`;
    if (!ENV_NAME.test(key)) {
      problems.push({ file, path, message: `'${key}' is not a valid environment variable name (letters, digits and '_', not starting with a digit)` });
    } else if (key === RESERVED_ENV_NAME) {
      problems.push({ file, path, message: 'is set by dockmaster (the port each replica listens on) and cannot be set here' });
    } else if (key.startsWith(RESERVED_ENV_PREFIX)) {
      problems.push({ file, path, message: `names starting with ${RESERVED_ENV_PREFIX} are set by dockmaster and cannot be set here` });
    }
    if (typeof value === 'string' && value.includes('\0')) problems.push({ file, path, message: 'must not contain NUL' });
  }
  return problems;
}

function runtimeProblems(runtime: Record<string, unknown>, file: string): ConfigProblem[] {
  const type = runtime['type'] as ServiceRuntime['type'];
  const problems = schemaProblems(RUNTIME_SCHEMAS[type], runtime, file).map((p) => ({ ...p, path: `/runtime${p.path}` }));
  const command = runtime['command'];
  if (type === 'process' && Array.isArray(command)) {
    if (command[0] === '') problems.push({ file, path: '/runtime/command/0', message: 'must name the program to run' });
    command.forEach((arg: unknown, i) => {
      if (typeof arg === 'string' && arg.includes('\0')) problems.push({ file, path: `/runtime/command/${i}`, message: 'must not contain NUL' });
    });
  }
  const image = runtime['image'];
  if (type === 'docker' && typeof image === 'string' && image !== '' && image.length <= MAX_IMAGE_LENGTH) {
    const problem = imageReferenceProblem(image);
    if (problem !== undefined) problems.push({ file, path: '/runtime/image', message: problem });
  }
  return problems;
}

/** Problems TypeBox cannot express: env names, the runtime by its type, timeout within interval,
 * resources and placement (placement-schema.ts). */
function semanticServiceProblems(value: Record<string, unknown>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const runtime = value['runtime'];
  if (isRecord(runtime) && (runtime['type'] === 'process' || runtime['type'] === 'docker')) {
    problems.push(...runtimeProblems(runtime, file));
  }
  const env = value['env'];
  if (isRecord(env)) problems.push(...envProblems(env, file));
  const health = value['health'];
  if (isRecord(health)) {
    const intervalMs = health['intervalMs'] ?? SERVICE_DEFAULTS.health.intervalMs;
    const timeoutMs = health['timeoutMs'];
    if (typeof intervalMs === 'number' && typeof timeoutMs === 'number' && timeoutMs > intervalMs) {
      // A probe still running when the next one is due would overlap it.
      problems.push({ file, path: '/health/timeoutMs', message: `must be at most health.intervalMs (${intervalMs})` });
    }
  }
  problems.push(...resourcesPlacementProblems(value, file));
  return problems;
}


type RuntimeInput = ServiceDocumentInput['runtime'];

function toRuntime(runtime: RuntimeInput): ServiceRuntime {
  if (runtime.type === 'process') {
    return { type: 'process', command: [...runtime.command], ...(runtime.cwd === undefined ? {} : { cwd: runtime.cwd }) };
  }
  return {
    type: 'docker',
    image: runtime.image,
    network: runtime.network ?? SERVICE_DEFAULTS.docker.network,
    pull: runtime.pull ?? SERVICE_DEFAULTS.docker.pull,
  };
}

function toHealth(health: ServiceDocumentInput['health']): HealthCheckSpec {
  const defaults = SERVICE_DEFAULTS.health;
  const intervalMs = health?.intervalMs ?? defaults.intervalMs;
  return {
    path: health?.path ?? defaults.path,
    intervalMs,
    // The default timeout never exceeds a shorter interval the file sets.
    timeoutMs: health?.timeoutMs ?? Math.min(defaults.timeoutMs, intervalMs),
    healthyThreshold: health?.healthyThreshold ?? defaults.healthyThreshold,
    unhealthyThreshold: health?.unhealthyThreshold ?? defaults.unhealthyThreshold,
  };
}

/**
 * Validates one `kind: Service` document. Every problem names `file` and the JSON path of the bad
 * field; all of them are reported, not just the first. On success the value is a frozen copy
 * with every default filled in (SERVICE_DEFAULTS; `health.timeoutMs` defaults to the shorter of
 * its default and `health.intervalMs`; `deploy` and `autoscale` as their validators fill them).
 */
export function validateServiceSpec(value: unknown, file: string): Validation<ServiceDocument> {
  const problems = schemaProblems(ServiceShapeSchema, value, file);
  if (isRecord(value)) problems.push(...semanticServiceProblems(value, file));
  const deploy = isRecord(value) && value['deploy'] !== undefined ? validateDeploySection(value['deploy'], file, '/deploy') : undefined;
  if (deploy?.ok === false) problems.push(...deploy.problems);
  const autoscale =
    isRecord(value) && value['autoscale'] !== undefined ? validateAutoscaleSection(value['autoscale'], file, '/autoscale') : undefined;
  if (autoscale?.ok === false) problems.push(...autoscale.problems);
  if (problems.length > 0) return { ok: false, problems };
  const doc = value as Omit<ServiceDocumentInput, 'deploy' | 'autoscale'>;
  const resources = toResources(doc.resources);
  const placement = toPlacement(doc.placement);
  const spec: ServiceDocument = {
    kind: 'Service',
    name: doc.name,
    runtime: toRuntime(doc.runtime),
    port: doc.port ?? SERVICE_DEFAULTS.port,
    env: { ...doc.env },
    replicas: doc.replicas ?? SERVICE_DEFAULTS.replicas,
    health: toHealth(doc.health),
    stopGraceMs: doc.stopGraceMs ?? SERVICE_DEFAULTS.stopGraceMs,
    drainTimeoutMs: doc.drainTimeoutMs ?? SERVICE_DEFAULTS.drainTimeoutMs,
    ...(doc.version === undefined ? {} : { version: doc.version }),
    ...(deploy?.ok === true ? { deploy: deploy.value } : {}),
    ...(autoscale?.ok === true ? { autoscale: autoscale.value } : {}),
    ...(resources === undefined ? {} : { resources }),
    ...(placement === undefined ? {} : { placement }),
  };
  return { ok: true, value: deepFreeze(spec) };
}

/** Validates one `kind: Policy` document; it must hold `deploy`, `autoscale` or both. Each is
 * written out in full (defaults filled in); neither can refer to another policy. */
export function validatePolicySpec(value: unknown, file: string): Validation<PolicySpec> {
  const problems = schemaProblems(PolicyShapeSchema, value, file);
  if (isRecord(value) && value['deploy'] === undefined && value['autoscale'] === undefined) {
    problems.push({ file, path: '', message: "a policy needs 'deploy', 'autoscale' or both" });
  }
  const deploy = isRecord(value) && value['deploy'] !== undefined ? validateDeployPolicy(value['deploy'], file, '/deploy') : undefined;
  if (deploy?.ok === false) problems.push(...deploy.problems);
  const autoscale =
    isRecord(value) && value['autoscale'] !== undefined ? validateAutoscalePolicy(value['autoscale'], file, '/autoscale') : undefined;
  if (autoscale?.ok === false) problems.push(...autoscale.problems);
  if (problems.length > 0) return { ok: false, problems };
  const doc = value as Pick<Static<typeof PolicySchema>, 'name'>;
  const spec: PolicySpec = {
    kind: 'Policy',
    name: doc.name,
    ...(deploy?.ok === true ? { deploy: deploy.value } : {}),
    ...(autoscale?.ok === true ? { autoscale: autoscale.value } : {}),
  };
  return { ok: true, value: deepFreeze(spec) };
}

/** Validates any document of a policies/ folder by its `kind`. */
export function validatePolicyFolderDocument(value: unknown, file: string): Validation<PolicyFolderDocument> {
  const kind = isRecord(value) ? value['kind'] : undefined;
  if (kind === 'Service') return validateServiceSpec(value, file);
  if (kind === 'Policy') return validatePolicySpec(value, file);
  return { ok: false, problems: [{ file, path: '/kind', message: `must be one of ${POLICY_FOLDER_KINDS.map((k) => `'${k}'`).join(', ')}` }] };
}

export interface PolicyFolderSource {
  readonly spec: PolicyFolderDocument;
  /** The file the document came from (or would be written to). */
  readonly file: string;
}

function isPolicySpec(spec: PolicyFolderDocument): spec is PolicySpec {
  return spec.kind === 'Policy';
}

/** The named policies of a set, by name (the first of a name; checkServiceSet reports the rest). */
function namedPolicies(specs: readonly PolicyFolderDocument[]): Map<string, PolicySpec> {
  const policies = new Map<string, PolicySpec>();
  for (const spec of specs) if (isPolicySpec(spec) && !policies.has(spec.name)) policies.set(spec.name, spec);
  return policies;
}

type PolicySection = 'deploy' | 'autoscale';

/** Why a service's `<section>: { policy: NAME }` cannot be resolved in this set, or undefined. */
function referenceProblem(name: string, section: PolicySection, policies: ReadonlyMap<string, PolicySpec>): string | undefined {
  const policy = policies.get(name);
  if (policy === undefined) {
    const known = [...policies.values()].filter((p) => p[section] !== undefined).map((p) => p.name);
    const listed = known.length === 0 ? `no ${section} policies here` : `${section} policies: ${known.join(', ')}`;
    return `refers to policy '${name}', but no 'kind: Policy' document has that name (${listed})`;
  }
  if (policy[section] === undefined) return `refers to policy '${name}', which has no '${section}' section`;
  return undefined;
}

/**
 * Problems of a policies/ set as a whole: a service name (or a policy name) used twice, reported
 * on the later document and naming both files (services and policies have separate names); and
 * a service whose `deploy: { policy: NAME }` or `autoscale: { policy: NAME }` names no policy, or
 * a policy without that section, reported at its /deploy/policy or /autoscale/policy.
 */
export function checkServiceSet(documents: readonly PolicyFolderSource[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  for (const { spec, file } of documents) {
    const key = `${spec.kind}\n${spec.name}`;
    const firstFile = seen.get(key);
    if (firstFile === undefined) {
      seen.set(key, file);
      continue;
    }
    const where = firstFile === file ? 'earlier in this file' : `in ${firstFile}`;
    problems.push({ file, path: '/name', message: `${spec.kind.toLowerCase()} name '${spec.name}' is already used ${where}` });
  }
  const policies = namedPolicies(documents.map((d) => d.spec));
  for (const { spec, file } of documents) {
    if (spec.kind !== 'Service') continue;
    const { deploy, autoscale } = spec;
    if (deploy !== undefined && isDeployPolicyReference(deploy)) {
      const message = referenceProblem(deploy.policy, 'deploy', policies);
      if (message !== undefined) problems.push({ file, path: '/deploy/policy', message });
    }
    if (autoscale !== undefined && isAutoscalePolicyReference(autoscale)) {
      const message = referenceProblem(autoscale.policy, 'autoscale', policies);
      if (message !== undefined) problems.push({ file, path: '/autoscale/policy', message });
    }
  }
  return problems;
}

/**
 * The services of a set as they are published: each `deploy: { policy: NAME }` and
 * `autoscale: { policy: NAME }` replaced by that section of the policy NAME, so editing a policy
 * changes the services that refer to it. Expects a set that checkServiceSet accepted; a reference
 * it cannot resolve (never, then) is left out, which means the default deploy policy, or no
 * autoscaling.
 */
export function resolveServices(specs: readonly PolicyFolderDocument[]): ResolvedService[] {
  const policies = namedPolicies(specs);
  const resolved: ResolvedService[] = [];
  for (const spec of specs) {
    if (spec.kind !== 'Service') continue;
    const { deploy, autoscale, ...rest } = spec;
    const deployPolicy = deploy !== undefined && isDeployPolicyReference(deploy) ? policies.get(deploy.policy)?.deploy : deploy;
    const autoscalePolicy =
      autoscale !== undefined && isAutoscalePolicyReference(autoscale) ? policies.get(autoscale.policy)?.autoscale : autoscale;
    resolved.push(
      deepFreeze({
        ...rest,
        ...(deployPolicy === undefined ? {} : { deploy: deployPolicy }),
        ...(autoscalePolicy === undefined ? {} : { autoscale: autoscalePolicy }),
      }),
    );
  }
  return resolved;
}
