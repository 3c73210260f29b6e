// What the multi-host driver reports about hosts, beside the runtime events: a host turning
// suspect, lost, up or back, containers fenced, replicas moved. Shaped like the event log's
// entries (type, message, data), so the wiring can record them as they are. Pure types.

export type HostEventType = 'host.suspect' | 'host.up' | 'host.lost' | 'host.back' | 'host.fenced' | 'host.moved';

export interface HostEvent {
  readonly type: HostEventType;
  readonly atMs: number;
  readonly host: string;
  /** Set for events about one replica (fenced, moved). */
  readonly service?: string | undefined;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type HostEventListener = (event: HostEvent) => void;
