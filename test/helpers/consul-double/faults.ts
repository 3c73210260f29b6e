// The faults the Consul HTTP API double can inject per endpoint, and how an injected fault is
// matched against a request. Test helper; pure.

/** Endpoint names, as the `consul` npm client names its calls. `*` matches every endpoint. */
export type DoubleEndpoint =
  | 'catalog.services'
  | 'catalog.service'
  | 'health.service'
  | 'agent.services'
  | 'agent.service.register'
  | 'agent.service.deregister'
  | 'session.create'
  | 'session.renew'
  | 'session.destroy'
  | 'session.info'
  | 'session.list'
  | 'session.node'
  | 'kv.get'
  | 'kv.keys'
  | 'kv.set'
  | 'kv.del'
  | '*';

export type ConsulFault =
  /** An HTML error page, as a proxy or load balancer in front of Consul answers. Default 500. */
  | { readonly kind: 'html-error'; readonly status?: number }
  /** 200 with a JSON body cut in the middle (Content-Length matches the cut body). */
  | { readonly kind: 'truncated-json' }
  /** 200 with valid JSON of the wrong shape: an object where Consul answers an array or a
   * boolean, and an array where it answers an object. */
  | { readonly kind: 'wrong-shape' }
  /** Answers at once with the real data and an X-Consul-Index lower than the current one
   * (default: 1), like a follower with older data. */
  | { readonly kind: 'index-backwards'; readonly index?: number }
  /** Answers at once with X-Consul-Index: 0, the bug Consul's docs warn about. */
  | { readonly kind: 'index-zero' }
  /** Takes the request and never answers (the socket stays open until the client gives up). */
  | { readonly kind: 'hang' }
  /** Destroys the connection without answering. */
  | { readonly kind: 'reset' }
  /** Handles the request as usual (a write takes effect: a lock is acquired, a session created)
   * and then destroys the connection instead of answering, as when the answer is lost on the way. */
  | { readonly kind: 'lost-answer' }
  /** Waits before handling the request normally. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Every read is preceded by a write that changes nothing but the index, so a blocking query
   * answers at once with a new index and unchanged data. */
  | { readonly kind: 'churn' };

export interface FaultRule {
  readonly endpoint: DoubleEndpoint;
  readonly fault: ConsulFault;
  /** Only requests about this subject: the service name (catalog, health, register), the
   * service id (deregister), the session id (session.renew/destroy/info), the node
   * (session.node) or the key (kv.*). */
  readonly service?: string | undefined;
  /** Applies to this many matching requests, then goes away; unlimited when undefined. */
  remaining: number | undefined;
}

/** The first rule matching the request, consuming one of its uses. */
export function takeFault(rules: FaultRule[], endpoint: DoubleEndpoint, subject: string | undefined): ConsulFault | undefined {
  const at = rules.findIndex((r) => (r.endpoint === '*' || r.endpoint === endpoint) && (r.service === undefined || r.service === subject));
  if (at < 0) return undefined;
  const rule = rules[at] as FaultRule;
  if (rule.remaining !== undefined) {
    rule.remaining -= 1;
    if (rule.remaining <= 0) rules.splice(at, 1);
  }
  return rule.fault;
}
