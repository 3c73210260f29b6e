// The pino logger factory: JSON lines, secrets redacted. Shell (writes to a stream).
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  /** Where lines go; default stdout. Tests pass a stream and read lines back as JSON. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? process.env['DOCKMASTER_LOG_LEVEL'] ?? 'info',
    base: { name: 'dockmaster' },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        '*.token',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
