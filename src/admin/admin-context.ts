// What each admin API module gets to register its handlers. Types only.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../observability/logger.js';
import type { AdminService } from './admin-service.js';

export interface AdminContext {
  readonly app: FastifyInstance;
  readonly service: AdminService;
  readonly logger: Logger;
  /** Records a method for a URL template, for the 405 answer's Allow header. */
  readonly allow: (url: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE') => void;
}
