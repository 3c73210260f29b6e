// One table of every error code dockmaster reports, with its HTTP status and meaning. Pure.

export const ERROR_CODES = {
  DM_ERR_CONFIG_INVALID: { status: 400, message: 'configuration is invalid' },
  DM_ERR_CONFIG_READ: { status: 500, message: 'configuration could not be read' },
  DM_ERR_CONFIG_WRITE: { status: 500, message: 'configuration could not be written' },
  DM_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no route matches the request' },
  DM_ERR_ROUTE_UNKNOWN: { status: 404, message: 'no route with that name' },
  DM_ERR_PROXY_BAD_REQUEST: { status: 400, message: 'request refused before routing' },
  DM_ERR_PROXY_NO_ENDPOINT: { status: 503, message: 'no healthy endpoint for the route' },
  DM_ERR_PROXY_UPSTREAM_REFUSED: { status: 502, message: 'upstream refused the connection' },
  DM_ERR_PROXY_UPSTREAM_RESET: { status: 502, message: 'upstream reset the connection' },
  DM_ERR_PROXY_UPSTREAM_TIMEOUT: { status: 504, message: 'upstream did not answer in time' },
  DM_ERR_PROXY_UPSTREAM_ERROR: { status: 502, message: 'upstream failed' },
  DM_ERR_PROXY_SHUTTING_DOWN: { status: 503, message: 'gateway is shutting down' },
  DM_ERR_ADMIN_UNAUTHORIZED: { status: 401, message: 'missing or wrong bearer token' },
  DM_ERR_ADMIN_BAD_REQUEST: { status: 400, message: 'request body is invalid' },
  DM_ERR_ADMIN_NOT_FOUND: { status: 404, message: 'not found' },
  DM_ERR_ADMIN_UNSAFE_BIND: { status: 500, message: 'admin listener needs a token to bind beyond loopback' },
  DM_ERR_ADMIN_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this path' },
  DM_ERR_ADMIN_BODY_TOO_LARGE: { status: 413, message: 'request body is larger than the admin API accepts' },
  DM_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'request body must be application/json' },
  DM_ERR_ADMIN_HOST_FORBIDDEN: { status: 403, message: 'Host header is not a loopback name (tokenless admin API)' },
  DM_ERR_ADMIN_NOT_READY: { status: 503, message: 'gateway is not ready (starting or shutting down)' },
  DM_ERR_ADMIN_TOO_MANY_STREAMS: { status: 503, message: 'too many event streams are open' },
  DM_ERR_ADMIN_INTERNAL: { status: 500, message: 'admin request failed' },
  DM_ERR_ADMIN_TOKEN_INVALID: { status: 500, message: 'admin token is empty or malformed' },
  DM_ERR_ADMIN_TOKEN_FILE: { status: 500, message: 'admin token file could not be read' },
  DM_ERR_CLI_USAGE: { status: 2, message: 'command line is invalid' },
  DM_ERR_SERVICE_UNKNOWN: { status: 404, message: 'no service with that name' },
  DM_ERR_RUNTIME_START: { status: 500, message: 'replica could not be started' },
  DM_ERR_RUNTIME_IMAGE_MISSING: { status: 500, message: 'image is missing and cannot be pulled' },
  DM_ERR_RUNTIME_UNAVAILABLE: { status: 503, message: 'runtime is not reachable' },
  DM_ERR_RUNTIME_NO_HOST: { status: 503, message: 'no host can take the replica' },
  DM_ERR_HOST_UNKNOWN: { status: 404, message: 'no host with that name' },
  DM_ERR_DEPLOY_IN_PROGRESS: { status: 409, message: 'a rollout of the service is running' },
  DM_ERR_DEPLOY_NO_ROLLOUT: { status: 409, message: 'the service has no running rollout' },
  DM_ERR_DEPLOY_NOT_ALLOWED: { status: 409, message: 'the rollout cannot do that in its current state' },
  DM_ERR_DEPLOY_UNKNOWN_REVISION: { status: 404, message: 'no such revision in the service history' },
  DM_ERR_HOSTS_NOT_CONFIGURED: { status: 409, message: 'no hosts are listed in dockmaster.yaml: replicas run on this machine' },
  DM_ERR_HOST_NOT_ALLOWED: { status: 409, message: 'the host cannot do that in its current state' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code; `details` carries structured context (file, path, ...). */
export class DockmasterError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'DockmasterError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
}

/** One validation problem: the file, the JSON path of the bad field, and what is wrong. */
export interface ConfigProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.file}: ${p.path || '/'}: ${p.message}`).join('\n');
}

export class ConfigError extends DockmasterError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('DM_ERR_CONFIG_INVALID', `configuration rejected:\n${formatProblems(problems)}`, problems);
    this.problems = problems;
  }
}
