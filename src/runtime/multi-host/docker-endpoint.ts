// Turns a host's Docker endpoint (`unix:///path`, `tcp://host:port`) and TLS material into
// dockerode connection options. Pure (the TLS files are read by the caller).
import { DockmasterError } from '../../errors.js';

export interface DockerTlsMaterial {
  readonly ca?: Buffer | string | undefined;
  readonly cert?: Buffer | string | undefined;
  readonly key?: Buffer | string | undefined;
}

/** The subset of dockerode's DockerOptions used here. No API version: the daemon's own is used. */
export type DockerConnectionOptions =
  | { readonly socketPath: string }
  | {
      readonly host: string;
      readonly port: number;
      readonly protocol: 'http' | 'https';
      readonly ca?: Buffer | string;
      readonly cert?: Buffer | string;
      readonly key?: Buffer | string;
    };

/**
 * `unix:///var/run/docker.sock` -> `{ socketPath }`; `tcp://10.0.0.5:2376` -> `{ host, port,
 * protocol }`, https when any TLS material is given (IPv6 in brackets: `tcp://[::1]:2375`).
 * Undefined endpoint: undefined (dockerode applies DOCKER_HOST or the local socket). Anything else
 * is DM_ERR_CONFIG_INVALID naming the host; TLS material with a unix socket is too.
 */
export function dockerConnectionOptions(hostName: string, endpoint: string | undefined, tls: DockerTlsMaterial = {}): DockerConnectionOptions | undefined {
  const hasTls = tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
  if (endpoint === undefined) {
    if (hasTls) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `host ${hostName}: TLS files need a tcp:// endpoint`, { host: hostName });
    return undefined;
  }
  if (endpoint.startsWith('unix://')) {
    const socketPath = endpoint.slice('unix://'.length);
    if (socketPath.startsWith('/')) {
      if (hasTls) throw new DockmasterError('DM_ERR_CONFIG_INVALID', `host ${hostName}: TLS files need a tcp:// endpoint, not ${endpoint}`, { host: hostName, endpoint });
      return { socketPath };
    }
  }
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]]+):(\d{1,5})$/.exec(endpoint);
  const port = Number(tcp?.[2]);
  if (tcp?.[1] !== undefined && port >= 1 && port <= 65535) {
    return {
      host: tcp[1].replace(/^\[|\]$/g, ''),
      port,
      protocol: hasTls ? 'https' : 'http',
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
    };
  }
  throw new DockmasterError('DM_ERR_CONFIG_INVALID', `host ${hostName}: docker endpoint ${JSON.stringify(endpoint)} must be 'unix:///path' or 'tcp://host:port'`, {
    host: hostName,
    endpoint,
  });
}
