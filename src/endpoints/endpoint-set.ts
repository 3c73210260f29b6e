// Merges the snapshots of every endpoint provider (managed replicas now; Docker labels and
// Consul later) into one endpoints-by-service map. A provider publishes its whole view; the
// newest snapshot of each provider wins; an unchanged snapshot does not trigger a rebuild.
import type { Endpoint } from '../model/endpoint.js';

export type EndpointSnapshot = ReadonlyMap<string, readonly Endpoint[]>;

function sameEndpoints(a: readonly Endpoint[] | undefined, b: readonly Endpoint[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Endpoint;
    const y = b[i] as Endpoint;
    if (x.id !== y.id || x.origin !== y.origin || x.weight !== y.weight || x.healthy !== y.healthy || x.draining !== y.draining || x.revision !== y.revision || x.source !== y.source) {
      return false;
    }
  }
  return true;
}

export function sameSnapshot(a: EndpointSnapshot | undefined, b: EndpointSnapshot): boolean {
  if (a === undefined || a.size !== b.size) return false;
  for (const [service, endpoints] of b) if (!sameEndpoints(a.get(service), endpoints)) return false;
  return true;
}

export class EndpointSet {
  private readonly snapshots = new Map<string, EndpointSnapshot>();
  private merged: EndpointSnapshot = new Map();
  private readonly onChange: (merged: EndpointSnapshot, provider: string) => void;

  constructor(onChange: (merged: EndpointSnapshot, provider: string) => void) {
    this.onChange = onChange;
  }

  /** Replaces one provider's whole view. Returns false when nothing changed. */
  publish(provider: string, snapshot: EndpointSnapshot): boolean {
    if (sameSnapshot(this.snapshots.get(provider), snapshot)) return false;
    this.snapshots.set(provider, snapshot);
    const merged = new Map<string, Endpoint[]>();
    for (const providerSnapshot of this.snapshots.values()) {
      for (const [service, endpoints] of providerSnapshot) merged.set(service, [...(merged.get(service) ?? []), ...endpoints]);
    }
    this.merged = merged;
    this.onChange(merged, provider);
    return true;
  }

  current(): EndpointSnapshot {
    return this.merged;
  }
}
