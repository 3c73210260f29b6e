// The status page's script (browser module, /ui/status-page.js): reads the admin API with the token
// kept in sessionStorage, draws it with DOM nodes and textContent (data never becomes markup), and
// follows GET /v1/events with fetch() streaming (EventSource cannot send the token). Browser I/O.

const TOKEN_KEY = 'dockmaster.adminToken';
/** Services and routes are read again this often: in-flight counts change without an event. */
const POLL_MS = 2_000;
/** An event asks for a fresh read after this pause, so a burst of events costs one read. */
const REFRESH_AFTER_EVENT_MS = 150;
const EVENTS_SHOWN = 100;
const EVENTS_BACKLOG = 50;
/** Until the stream's `retry:` hint says otherwise. */
const RETRY_FALLBACK_MS = 3_000;
const RUNNING_PHASES = new Set(['Progressing', 'Paused']);
const COMMANDS = [
  { name: 'promote', label: 'Promote', effect: 'skips the remaining steps and sends all traffic to the new revision' },
  { name: 'pause', label: 'Pause', effect: 'holds the rollout where it is' },
  { name: 'resume', label: 'Resume', effect: 'lifts a pause, or ends a pause step' },
  { name: 'abort', label: 'Abort', effect: 'stops the rollout and restores the previous revision' },
];

/** The API answered 401: the page needs (another) token. */
class AuthRequired extends Error {}

class ApiError extends Error {
  constructor(status, code, message) {
    super(`${message} (${code})`);
    this.status = status;
    this.code = code;
  }
}

/** The element with `id`; the page and this script ship together, so a missing one is a bug. */
function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`status page: element #${id} is missing`);
  return node;
}

/** createElement with text and data attributes; children are nodes or strings (text nodes). */
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className !== undefined) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  if (options.title !== undefined) node.title = String(options.title);
  for (const [key, value] of Object.entries(options.data ?? {})) node.dataset[key] = String(value);
  for (const child of children) node.append(child);
  return node;
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
/** What runs while the page shows data: its requests, timers and last drawn state. */
let session;
/** The command the open confirmation dialog would send. */
let pendingCommand;

function startSession() {
  stopSession();
  const s = {
    controller: new AbortController(),
    pollTimer: undefined,
    refreshTimer: undefined,
    refreshing: false,
    again: false,
    lastSeq: undefined,
    retryMs: RETRY_FALLBACK_MS,
    events: [],
    drawn: { services: '', routes: '' },
  };
  session = s;
  byId('token-panel').hidden = true;
  byId('forget-token').hidden = token === undefined;
  setConnection('connecting', 'connecting');
  void refresh(s).then((ok) => {
    if (!ok || session !== s) return;
    s.pollTimer = setInterval(() => void refresh(s), POLL_MS);
    void followEvents(s);
  });
}

function stopSession() {
  if (session === undefined) return;
  session.controller.abort();
  clearInterval(session.pollTimer);
  clearTimeout(session.refreshTimer);
  session = undefined;
  setConnection('idle', 'not connected');
}

/** Stops everything, hides and clears every figure, and shows the token form. */
function askForToken(reason, error) {
  stopSession();
  clearData();
  byId('token-reason').textContent = reason;
  const errorLine = byId('token-error');
  errorLine.textContent = error ?? '';
  errorLine.hidden = error === undefined;
  byId('forget-token').hidden = true;
  byId('token-panel').hidden = false;
  byId('token-input').focus();
}

function onAuthRequired(message) {
  if (token === undefined) {
    askForToken('The admin API needs a token.', undefined);
    return;
  }
  token = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  askForToken('The admin API refused the token.', `Token refused: ${message}`);
}

async function api(s, path, init = {}) {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(path, { ...init, headers, signal: s.controller.signal, cache: 'no-store', credentials: 'omit' });
  if (response.ok) return response;
  const { code, message } = await errorOf(response);
  if (response.status === 401) throw new AuthRequired(`${message} (${code})`);
  throw new ApiError(response.status, code, message);
}

/** The admin API's `{error: {code, message}}`, or the HTTP status when the body is not that. */
async function errorOf(response) {
  try {
    const body = await response.json();
    if (typeof body?.error?.message === 'string') return { code: String(body.error.code ?? response.status), message: body.error.message };
  } catch {
    // Not JSON: fall through to the status line.
  }
  return { code: `HTTP ${response.status}`, message: response.statusText || 'request failed' };
}

async function getJson(s, path) {
  return (await api(s, path)).json();
}

/** Reads services and routes and draws them; false when the session ended or the read failed. */
async function refresh(s) {
  if (session !== s) return false;
  if (s.refreshing) {
    // Read again when this one is done: what it answers may predate the reason for asking.
    s.again = true;
    return false;
  }
  s.refreshing = true;
  try {
    const [services, routes] = await Promise.all([getJson(s, '/v1/services'), getJson(s, '/v1/routes')]);
    if (session !== s) return false;
    draw(s, services.services ?? [], routes.routes ?? []);
    byId('content').hidden = false;
    clearNotice('read');
    return true;
  } catch (error) {
    if (session !== s || s.controller.signal.aborted) return false;
    if (error instanceof AuthRequired) {
      onAuthRequired(error.message);
      return false;
    }
    showNotice('error', 'read', `Cannot read the admin API: ${error.message}`);
    return false;
  } finally {
    s.refreshing = false;
    if (s.again) {
      s.again = false;
      scheduleRefresh(s);
    }
  }
}

function scheduleRefresh(s) {
  if (s.refreshTimer !== undefined) return;
  s.refreshTimer = setTimeout(() => {
    s.refreshTimer = undefined;
    void refresh(s);
  }, REFRESH_AFTER_EVENT_MS);
}

/** Follows the event stream until the session ends, reconnecting from the last event seen. */
async function followEvents(s) {
  const { signal } = s.controller;
  while (!signal.aborted && session === s) {
    try {
      const query = new URLSearchParams();
      if (s.lastSeq === undefined) query.set('limit', String(EVENTS_BACKLOG));
      else query.set('since', String(s.lastSeq));
      const response = await api(s, `/v1/events?${query.toString()}`, { headers: { accept: 'text/event-stream' } });
      if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        throw new Error('GET /v1/events did not answer with an event stream');
      }
      setConnection('live', 'live');
      // Whatever changed while the stream was down.
      scheduleRefresh(s);
      const connection = { fresh: true };
      await readEventStream(response.body, (frame) => onEvent(s, connection, frame), (retryMs) => (s.retryMs = retryMs));
      // The server ended the stream (shutting down, or it dropped a reader that fell behind).
      setConnection('reconnecting', 'stream ended; reconnecting');
    } catch (error) {
      if (signal.aborted || session !== s) return;
      if (error instanceof AuthRequired) {
        onAuthRequired(error.message);
        return;
      }
      setConnection('reconnecting', `reconnecting: ${error.message}`);
    }
    await sleep(s.retryMs, signal);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function readEventStream(body, onData, onRetry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const parse = createSseParser(onData, onRetry);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parse(value);
  }
}

/** A text/event-stream parser (the WHATWG rules this server's frames use): feed it text in
 * any chunks; it calls `onData(data)` per event and `onRetry(ms)` per retry hint. */
function createSseParser(onData, onRetry) {
  let buffer = '';
  let data = [];
  return (text) => {
    buffer += text;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (data.length > 0) onData(data.join('\n'));
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    }
  };
}

function onEvent(s, connection, data) {
  if (session !== s) return;
  let event;
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  if (typeof event?.seq !== 'number') return;
  if (connection.fresh) {
    connection.fresh = false;
    // A resumed stream starts after the last event seen; one that starts at or before it comes
    // from a restarted gateway (its seqs start again), so the list starts again too.
    if (s.lastSeq !== undefined && event.seq <= s.lastSeq) {
      s.events = [];
      s.lastSeq = undefined;
    }
  }
  if (s.lastSeq !== undefined && event.seq <= s.lastSeq) return;
  s.lastSeq = event.seq;
  s.events.unshift(event);
  if (s.events.length > EVENTS_SHOWN) s.events.length = EVENTS_SHOWN;
  drawEvents(s.events);
  scheduleRefresh(s);
}

function setConnection(state, text) {
  const node = byId('connection');
  node.dataset.state = state;
  node.textContent = text;
}

/** One notice line; `kind` lets a later success clear only the failure it answers. */
function showNotice(tone, kind, text) {
  const notice = byId('notice');
  notice.className = tone;
  notice.dataset.kind = kind;
  notice.textContent = text;
  notice.hidden = false;
}

function clearNotice(kind) {
  const notice = byId('notice');
  if (notice.dataset.kind !== kind) return;
  notice.hidden = true;
  notice.textContent = '';
  delete notice.dataset.kind;
}

function clearData() {
  byId('content').hidden = true;
  for (const id of ['services', 'replicas', 'routes']) byId(id).tBodies[0]?.replaceChildren();
  byId('rollouts').replaceChildren();
  byId('events').replaceChildren();
  const notice = byId('notice');
  notice.hidden = true;
  notice.textContent = '';
}

/** Draws services, rollouts, replicas and routes, skipping what has not changed. */
function draw(s, services, routes) {
  const servicesJson = JSON.stringify(services);
  if (servicesJson !== s.drawn.services) {
    s.drawn.services = servicesJson;
    drawServices(services);
    drawRollouts(services);
    drawReplicas(services);
  }
  const routesJson = JSON.stringify(routes);
  if (routesJson !== s.drawn.routes) {
    s.drawn.routes = routesJson;
    drawRoutes(routes);
  }
}

function fillTable(id, rows) {
  byId(id).tBodies[0].replaceChildren(...rows);
  byId(`${id}-empty`).hidden = rows.length > 0;
}

function cells(values) {
  return values.map((value) => (value instanceof Node ? el('td', {}, [value]) : el('td', { text: value ?? '–' })));
}

function drawServices(services) {
  fillTable(
    'services',
    services.map((svc) => {
      const endpoints = svc.endpoints ?? [];
      const sources = [...new Set(endpoints.map((e) => e.source))].join(', ') || 'no provider';
      const replicas =
        svc.desiredReplicas !== undefined
          ? `${svc.readyReplicas} / ${svc.desiredReplicas}`
          : `${endpoints.filter((e) => e.pickable).length} endpoint(s) from ${sources}`;
      const r = svc.rollout;
      const rollout = r === undefined ? '–' : el('span', { className: `phase-${r.phase}`, text: `${r.id} ${r.phase}` });
      return el('tr', { data: { service: svc.name } }, cells([svc.name, replicas, svc.stableRevision, svc.revision, rollout]));
    }),
  );
}

function stepText(step) {
  return `${step.index}/${step.total}${step.description ? `: ${step.description}` : ''}`;
}

function drawRollouts(services) {
  const cards = services.filter((svc) => svc.rollout !== undefined).map((svc) => rolloutCard(svc.name, svc.rollout));
  byId('rollouts').replaceChildren(...cards);
  byId('rollouts-empty').hidden = cards.length > 0;
}

function rolloutCard(service, r) {
  const running = RUNNING_PHASES.has(r.phase);
  const facts = [
    ['phase', el('span', { className: `phase phase-${r.phase}`, text: r.phase })],
    ['strategy', r.strategy],
    ['revisions', `${r.fromRevision} → ${r.toRevision}`],
    ['step', el('span', { className: 'step', text: stepText(r.step) })],
  ];
  if (r.paused) facts.push(['paused', 'by command (resume to continue)']);
  if (r.pendingRequest) facts.push(['requested', r.pendingRequest]);
  if (r.message) facts.push(['message', el('span', { className: 'message', text: r.message })]);
  const list = el('dl', {}, facts.flatMap(([name, value]) => [el('dt', { text: name }), value instanceof Node ? el('dd', {}, [value]) : el('dd', { text: value })]));

  const replicasOf = new Map((r.replicas ?? []).map((x) => [x.revision, x]));
  const revisions = r.weights.length > 0 ? r.weights.map((w) => w.revision) : [...new Set([r.fromRevision, r.toRevision])];
  const weightRows = revisions.map((revision) => {
    const weight = r.weights.find((w) => w.revision === revision);
    const counts = replicasOf.get(revision);
    const role = revision === r.toRevision ? 'new' : revision === r.fromRevision ? 'previous' : '';
    return el('tr', { data: { revision } }, [
      el('td', { className: 'mono', text: revision }),
      el('td', { text: role }),
      el('td', { className: 'weight', data: { weightOf: revision }, text: weight === undefined ? 'by replicas' : `${weight.percent}%` }),
      el('td', { text: counts === undefined ? '0 / 0' : `${counts.ready} / ${counts.active}` }),
    ]);
  });
  const weights = el('table', { className: 'weights' }, [
    el('thead', {}, [el('tr', {}, ['revision', '', 'traffic', 'replicas ready / active'].map((h) => el('th', { text: h })))]),
    el('tbody', {}, weightRows),
  ]);

  const children = [el('h3', { text: `${service}: rollout ${r.id}` }), list, weights];
  if (running) {
    children.push(
      el(
        'div',
        { className: 'buttons' },
        COMMANDS.map((command) => {
          const button = el('button', { className: command.name === 'abort' ? 'danger' : '', text: command.label, data: { command: command.name } });
          button.type = 'button';
          button.addEventListener('click', () => askToConfirm(service, r, command));
          return button;
        }),
      ),
    );
  }
  return el('div', { className: 'rollout', data: { service, phase: r.phase } }, children);
}

function drawReplicas(services) {
  const rows = [];
  for (const svc of services) {
    const endpoints = new Map((svc.endpoints ?? []).map((e) => [e.id, e]));
    for (const replica of svc.replicas ?? []) {
      const endpoint = endpoints.get(`${svc.name}/${replica.id}`);
      endpoints.delete(`${svc.name}/${replica.id}`);
      const health = replica.health.healthy ? 'healthy' : unhealthyText(replica.health);
      rows.push(
        el('tr', { data: { replica: replica.id } }, [
          ...cells([svc.name, replica.id, replica.revision, replica.address]),
          el('td', { className: `state-${replica.state}`, text: replica.state }),
          el('td', { className: `health-${replica.health.healthy ? 'healthy' : 'unhealthy'}`, text: endpoint?.ejected ? `${health}, ejected` : health }),
          el('td', { className: 'in-flight', text: endpoint?.inFlight ?? '–' }),
        ]),
      );
    }
    // Endpoints that no managed replica accounts for: from Docker labels, Consul, static files.
    for (const e of endpoints.values()) {
      const state = e.draining ? 'draining' : e.pickable ? 'serving' : 'not serving';
      rows.push(
        el('tr', { data: { replica: e.id } }, [
          ...cells([svc.name, `${e.id} (${e.source})`, e.revision, e.origin]),
          el('td', { text: state }),
          el('td', { className: `health-${e.healthy ? 'healthy' : 'unhealthy'}`, text: `${e.healthy ? 'healthy' : 'unhealthy'}${e.ejected ? ', ejected' : ''}` }),
          el('td', { className: 'in-flight', text: e.inFlight }),
        ]),
      );
    }
  }
  fillTable('replicas', rows);
}

function unhealthyText(health) {
  if (health.consecutiveFailures === 0) return 'unhealthy';
  return `unhealthy (${health.consecutiveFailures} failed checks${health.lastError ? `: ${health.lastError}` : ''})`;
}

function drawRoutes(routes) {
  fillTable(
    'routes',
    routes.map((route) => {
      const match = [];
      if (route.match?.host) match.push(`host ${route.match.host}`);
      match.push(`path ${route.match?.pathPrefix ?? '/'}`);
      for (const [name, value] of Object.entries(route.match?.headers ?? {})) match.push(`${name}: ${value}`);
      const to = route.service !== undefined ? `service ${route.service}` : (route.upstreams ?? []).map((u) => u.url).join(', ');
      return el('tr', { data: { route: route.name } }, cells([route.name, match.join(', '), to]));
    }),
  );
}

function drawEvents(events) {
  byId('events').replaceChildren(
    ...events.map((event) =>
      el('li', { data: { seq: event.seq, type: event.type } }, [
        el('span', { className: 'time', text: new Date(event.atMs).toLocaleTimeString([], { hourCycle: 'h23' }), title: new Date(event.atMs).toISOString() }),
        el('span', { className: 'type', text: event.type }),
        el('span', { className: 'service', text: event.service ?? '' }),
        el('span', { className: 'message', text: event.message }),
      ]),
    ),
  );
  byId('events-empty').hidden = events.length > 0;
}

function askToConfirm(service, rollout, command) {
  pendingCommand = { service, command: command.name };
  byId('confirm-text').textContent = `${command.label} rollout ${rollout.id} of ${service} (${rollout.fromRevision} → ${rollout.toRevision})? This ${command.effect}.`;
  byId('confirm-ok').textContent = command.label;
  const dialog = byId('confirm');
  dialog.returnValue = '';
  dialog.showModal();
}

async function onConfirmClosed() {
  const pending = pendingCommand;
  pendingCommand = undefined;
  const s = session;
  if (byId('confirm').returnValue !== 'ok' || pending === undefined || s === undefined) return;
  const label = `${pending.command} ${pending.service}`;
  showNotice('', 'command', `${label}: sending…`);
  try {
    const response = await api(s, `/v1/services/${encodeURIComponent(pending.service)}/rollout/${pending.command}`, { method: 'POST' });
    const body = await response.json();
    showNotice('ok', 'command', `${label}: ${body.message ?? 'done'}`);
  } catch (error) {
    if (session !== s) return;
    if (error instanceof AuthRequired) {
      onAuthRequired(error.message);
      return;
    }
    showNotice('error', 'command', `${label} failed: ${error.message}`);
  }
  void refresh(s);
}

function main() {
  byId('token-form').addEventListener('submit', (event) => {
    // Handled here: the page never submits a form (its CSP says form-action 'none').
    event.preventDefault();
    const input = byId('token-input');
    const value = input.value.trim();
    if (value === '') return;
    input.value = '';
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    startSession();
  });
  byId('forget-token').addEventListener('click', () => {
    token = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken('Token forgotten: enter it again to see the gateway.', undefined);
  });
  byId('confirm-cancel').addEventListener('click', () => byId('confirm').close('cancel'));
  byId('confirm-ok').addEventListener('click', () => byId('confirm').close('ok'));
  byId('confirm').addEventListener('close', () => void onConfirmClosed());
  startSession();
}

main();
