// One Docker host as the multi-host driver takes it: the placement view of dockmaster.yaml's host
// (name, address, capacity, labels, initial cordon state, endpoint) plus the paths of its TLS
// files. The config's HostConfig has this shape, so it is passed as it is. Pure types.
import type { HostSpec } from '../../model/host.js';

/** Paths of PEM files for a `tcp://` endpoint with TLS (Docker's `--tlsverify` setup). */
export interface DockerTlsPaths {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** `dockerEndpoint`: `unix:///path` or `tcp://host:port`; undefined: DOCKER_HOST or the local
 * socket. `cordoned`: the state the host starts in. */
export interface DockerHostEntry extends HostSpec {
  readonly tls?: DockerTlsPaths | undefined;
}
