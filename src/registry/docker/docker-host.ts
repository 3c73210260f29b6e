// Turns the Docker provider's `host` setting (`unix:///path` or `tcp://host:port`) into dockerode
// connection options. Pure.
import { DockmasterError } from '../../errors.js';

export type DockerConnection =
  | { readonly socketPath: string }
  | { readonly host: string; readonly port: number; readonly protocol: 'http' };

/** Undefined host: undefined, so dockerode applies DOCKER_HOST or the local socket itself. No API
 * version is ever set: the daemon's own is used. */
export function dockerConnectionFor(host: string | undefined): DockerConnection | undefined {
  if (host === undefined) return undefined;
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (socketPath.startsWith('/')) return { socketPath };
  }
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]]+):(\d{1,5})$/.exec(host);
  const port = Number(tcp?.[2]);
  if (tcp?.[1] !== undefined && port >= 1 && port <= 65535) {
    return { host: tcp[1].replace(/^\[|\]$/g, ''), port, protocol: 'http' };
  }
  throw new DockmasterError('DM_ERR_CONFIG_INVALID', `docker provider host ${JSON.stringify(host)} must be 'unix:///path' or 'tcp://host:port'`, { host });
}
