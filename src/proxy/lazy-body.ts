// A request body that is only read from the client once undici starts sending it, so an
// attempt that fails before sending leaves the client's stream untouched for a retry. I/O.
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';

export class LazyBody extends Readable {
  /** True once any byte was pulled from the client: this body cannot be replayed. */
  consumed = false;
  private readonly source: IncomingMessage;
  private attached = false;

  constructor(source: IncomingMessage) {
    super();
    this.source = source;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.consumed = true;
    if (!this.push(chunk)) this.source.pause();
  };

  private readonly onEnd = (): void => {
    this.push(null);
  };

  private readonly onError = (error: Error): void => {
    this.destroy(error);
  };

  override _read(): void {
    if (!this.attached) {
      this.attached = true;
      if (this.source.readableEnded) {
        this.push(null);
        return;
      }
      this.source.on('data', this.onData);
      this.source.once('end', this.onEnd);
      this.source.once('error', this.onError);
    }
    this.source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Detach only: the client's request stream belongs to the listener, never to an attempt.
    if (this.attached) {
      this.source.off('data', this.onData);
      this.source.off('end', this.onEnd);
      this.source.off('error', this.onError);
      this.source.pause();
    }
    callback(error);
  }
}
