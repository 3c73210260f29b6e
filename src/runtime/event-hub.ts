// Listener registry for RuntimeEvents, shared by the drivers. Pure (calls listeners, no I/O).
import type { Logger } from '../observability/logger.js';
import type { RuntimeEvent, RuntimeEventListener } from './runtime-driver.js';

export class EventHub {
  private readonly listeners = new Set<RuntimeEventListener>();

  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  on(listener: RuntimeEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: RuntimeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.kind }, 'runtime event listener threw');
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
