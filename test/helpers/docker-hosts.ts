// Several private Docker daemons on one machine, one per simulated Docker host, for the
// multi-host tests: each with its own socket, --data-root, --exec-root and --pidfile, all
// loopback-only (--bridge=none --iptables=false --ip-masq=false --ip-forward=false), each holding
// the demo image. A host can be killed (daemon and containers, a machine losing power), restarted
// on the same roots, or paused (SIGSTOP: a host that stops answering for a while). Containers use
// host networking, so they all share 127.0.0.1 on distinct ports. Test helper; does I/O.
import type Dockerode from 'dockerode';
import { DEMO_IMAGE } from './docker.js';
import { startDockerd, type PrivateDockerd } from './dockerd.js';

export interface SimulatedHost {
  readonly name: string;
  readonly daemon: PrivateDockerd;
  /** `unix://<dir>/docker.sock`: the host's Docker endpoint for dockmaster.yaml. */
  readonly endpoint: string;
  readonly docker: Dockerode;
}

export interface DockerHosts {
  readonly hosts: readonly SimulatedHost[];
  get(name: string): SimulatedHost;
  /** SIGKILL the host's daemon, its shims and its containers' processes, at once; resolves with
   * the time (epoch ms) the signals were sent, once they are all gone. */
  kill(name: string): Promise<number>;
  /** Start the host's daemon again on the same socket and roots; resolves once it answers. */
  restart(name: string): Promise<void>;
  /** SIGSTOP the daemon: pings and API calls hang until resume(); containers keep running. */
  pause(name: string): void;
  resume(name: string): void;
  /** Containers on the host (all states) carrying every given label (`key=value` or `key`). */
  containers(name: string, labels?: readonly string[]): Promise<Dockerode.ContainerInfo[]>;
  /** Removes every container, stops every daemon, deletes their folders. Idempotent. */
  destroy(): Promise<void>;
}

export interface StartDockerHostsOptions {
  /** Copied into every daemon from the main one. Default the demo image. */
  readonly image?: string;
  readonly readyTimeoutMs?: number;
}

/** Starts one private daemon per name (in parallel) and loads the image into each. On failure
 * everything started is destroyed before the error is thrown. */
export async function startDockerHosts(names: readonly string[], options: StartDockerHostsOptions = {}): Promise<DockerHosts> {
  if (new Set(names).size !== names.length) throw new Error(`startDockerHosts: duplicate names in ${names.join(', ')}`);
  const started: PrivateDockerd[] = [];
  const destroyAll = async (): Promise<void> => {
    const all = started.splice(0);
    await Promise.all(all.map((d) => d.destroy()));
  };
  try {
    const daemons = await Promise.all(
      names.map(async (name) => {
        const daemon = await startDockerd(`mh-${name}`, options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs });
        started.push(daemon);
        return daemon;
      }),
    );
    // One at a time: each load streams the image out of the main daemon.
    for (const daemon of daemons) await daemon.loadImage(options.image ?? DEMO_IMAGE);
    const hosts: SimulatedHost[] = names.map((name, i) => {
      const daemon = daemons[i] as PrivateDockerd;
      return { name, daemon, endpoint: daemon.host, docker: daemon.docker };
    });
    const get = (name: string): SimulatedHost => {
      const host = hosts.find((h) => h.name === name);
      if (host === undefined) throw new Error(`no simulated docker host ${name}`);
      return host;
    };
    return {
      hosts,
      get,
      kill: (name) => get(name).daemon.kill(),
      restart: (name) => get(name).daemon.start(),
      pause: (name) => get(name).daemon.pause(),
      resume: (name) => get(name).daemon.resume(),
      containers: (name, labels = []) => get(name).docker.listContainers({ all: true, filters: { label: [...labels] } }),
      destroy: destroyAll,
    };
  } catch (err) {
    await destroyAll();
    throw err;
  }
}
