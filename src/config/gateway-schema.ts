// Schema of `dockmaster.yaml` (kind: Gateway) at the root of the config folder: endpoint
// providers, passive-health settings and the Docker hosts with their health checks. Validation
// reports every problem with its path. Pure.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ConfigProblem } from '../errors.js';
import { CONSUL_DEFAULTS, DOCKER_PROVIDER_DEFAULTS, GATEWAY_DEFAULTS, type GatewayConfig } from '../model/gateway.js';
import { schemaProblems } from './schema-problems.js';
import { hostsProblems, HostsSchema, toHostConfigs } from './hosts-schema.js';

const Ms = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

/** Floors that keep host pings from becoming a busy loop, yet let tests lose a host quickly. */
export const MIN_HOST_CHECK_INTERVAL_MS = 50;
export const MIN_HOST_DOWN_AFTER_MS = 100;

export const GatewaySchema = Type.Object(
  {
    kind: Type.Literal('Gateway'),
    providers: Type.Optional(
      Type.Object(
        {
          docker: Type.Optional(
            Type.Object(
              {
                host: Type.Optional(Type.String({ pattern: '^(unix:///.+|tcp://[^/]+:[0-9]+)$', problem: "must be 'unix:///path' or 'tcp://host:port'" })),
                labelPrefix: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{0,62}$', problem: 'must be a label namespace like dockmaster' })),
              },
              { additionalProperties: false },
            ),
          ),
          consul: Type.Optional(
            Type.Object(
              {
                address: Type.String({ pattern: '^https?://[^/]+$', problem: "must be an address like 'http://127.0.0.1:8500'" }),
                token: Type.Optional(Type.String({ minLength: 1 })),
                datacenter: Type.Optional(Type.String({ minLength: 1 })),
                tag: Type.Optional(Type.String({ minLength: 1 })),
                tagPrefix: Type.Optional(Type.String()),
                waitMs: Type.Optional(Ms(1_000, 600_000)),
                maxQueriesPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000 })),
                burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
                register: Type.Optional(
                  Type.Object(
                    {
                      enabled: Type.Optional(Type.Boolean()),
                      checkIntervalMs: Type.Optional(Ms(100, 600_000)),
                      deregisterCriticalAfterMs: Type.Optional(Ms(60_000, 86_400_000)),
                    },
                    { additionalProperties: false },
                  ),
                ),
                leadership: Type.Optional(
                  Type.Object(
                    {
                      enabled: Type.Optional(Type.Boolean()),
                      sessionTtlMs: Type.Optional(Ms(1_000, 86_400_000)),
                      lockDelayMs: Type.Optional(Ms(0, 60_000)),
                      keyPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$', problem: 'must be a Consul key path like dockmaster or teams/web/dockmaster' })),
                    },
                    { additionalProperties: false },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    passiveHealth: Type.Optional(
      Type.Object(
        {
          consecutiveFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
          baseEjectionMs: Type.Optional(Ms(100, 3_600_000)),
          maxEjectionMs: Type.Optional(Ms(100, 86_400_000)),
          maxEjectionPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
    panicThresholdPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    slowStartMs: Type.Optional(Ms(0, 3_600_000)),
    stateDir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    hosts: Type.Optional(HostsSchema),
    hostCheckIntervalMs: Type.Optional(Ms(MIN_HOST_CHECK_INTERVAL_MS, 60_000)),
    hostDownAfterMs: Type.Optional(Ms(MIN_HOST_DOWN_AFTER_MS, 600_000)),
  },
  { additionalProperties: false },
);

type GatewayDocument = Static<typeof GatewaySchema>;

export type GatewayValidation = { readonly ok: true; readonly value: GatewayConfig } | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Validates a `kind: Gateway` document and fills in every default. */
export function validateGatewayConfig(value: unknown, file: string): GatewayValidation {
  const problems = schemaProblems(GatewaySchema, value, file);
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  problems.push(...hostsProblems(record['hosts'], file));
  if (problems.length > 0) return { ok: false, problems };
  const doc = Value.Clone(value) as GatewayDocument;
  const passive = { ...GATEWAY_DEFAULTS.passiveHealth, ...doc.passiveHealth };
  if (passive.maxEjectionMs < passive.baseEjectionMs) {
    problems.push({ file, path: '/passiveHealth/maxEjectionMs', message: 'must be at least baseEjectionMs' });
  }
  const hostCheckIntervalMs = doc.hostCheckIntervalMs ?? GATEWAY_DEFAULTS.hostCheckIntervalMs;
  const hostDownAfterMs = doc.hostDownAfterMs ?? GATEWAY_DEFAULTS.hostDownAfterMs;
  if (hostDownAfterMs <= hostCheckIntervalMs) {
    // Reported where the file set a value; a default on one side is named as such.
    const path = doc.hostDownAfterMs !== undefined ? '/hostDownAfterMs' : '/hostCheckIntervalMs';
    const message =
      doc.hostDownAfterMs !== undefined
        ? `must be more than hostCheckIntervalMs (${hostCheckIntervalMs}): a host is lost only after missing at least one ping`
        : `must be less than hostDownAfterMs (default ${hostDownAfterMs}): a host is lost only after missing at least one ping`;
    problems.push({ file, path, message });
  }
  if (problems.length > 0) return { ok: false, problems };
  const consul = doc.providers?.consul;
  const docker = doc.providers?.docker;
  return {
    ok: true,
    value: {
      providers: {
        docker: docker === undefined ? undefined : { ...DOCKER_PROVIDER_DEFAULTS, ...docker },
        consul:
          consul === undefined
            ? undefined
            : {
                ...CONSUL_DEFAULTS,
                ...consul,
                register: { ...CONSUL_DEFAULTS.register, ...consul.register, ...(consul.leadership?.enabled === true ? { enabled: true } : {}) },
                leadership: { ...CONSUL_DEFAULTS.leadership, ...consul.leadership },
              },
      },
      passiveHealth: passive,
      panicThresholdPercent: doc.panicThresholdPercent ?? GATEWAY_DEFAULTS.panicThresholdPercent,
      slowStartMs: doc.slowStartMs ?? GATEWAY_DEFAULTS.slowStartMs,
      ...(doc.stateDir === undefined ? {} : { stateDir: doc.stateDir }),
      hosts: toHostConfigs(doc.hosts, file),
      hostCheckIntervalMs,
      hostDownAfterMs,
    },
  };
}
