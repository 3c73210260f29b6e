// The demo replica: a dependency-free Node HTTP app that reports who answered. Does I/O (listens).
// Plain JavaScript so a bare `node` can run it, also inside the imported demo image.
//
// Environment:
//   PORT (required)               port to listen on; DEMO_BIND set: 0.0.0.0, else 127.0.0.1
//   DOCKMASTER_SERVICE / _REVISION / _REPLICA / _VERSION   echoed in every answer ('' when unset)
//   DEMO_LATENCY_MS               delay before each answer (default 0)
//   DEMO_ERROR_RATE               share of requests (0..1) answered 500 (default 0)
//   DEMO_FAIL_HEALTH=1|true       /healthz answers 503
//   DEMO_IGNORE_SIGTERM=1|true    ignore SIGTERM (tests of the stop grace period)
//   DEMO_EXIT_AFTER_MS            exit with DEMO_EXIT_CODE (default 1) after this long (crash tests)
import http from 'node:http';

const env = process.env;

function flag(value) {
  return value === '1' || value === 'true';
}

function nonNegativeNumber(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`demo-app: ${name}=${raw} is not a non-negative number\n`);
    process.exit(2);
  }
  return value;
}

const port = nonNegativeNumber('PORT', Number.NaN);
if (!Number.isInteger(port) || port > 65535) {
  process.stderr.write('demo-app: PORT must be set to a port number\n');
  process.exit(2);
}
const bindHost = env.DEMO_BIND ? '0.0.0.0' : '127.0.0.1';
const latencyMs = nonNegativeNumber('DEMO_LATENCY_MS', 0);
const errorRate = Math.min(1, nonNegativeNumber('DEMO_ERROR_RATE', 0));
const failHealth = flag(env.DEMO_FAIL_HEALTH);
const identity = {
  service: env.DOCKMASTER_SERVICE ?? '',
  revision: env.DOCKMASTER_REVISION ?? '',
  replica: env.DOCKMASTER_REPLICA ?? '',
  version: env.DOCKMASTER_VERSION ?? '',
  port,
};

let inFlight = 0;
let shuttingDown = false;

function answer(req, res) {
  const path = req.url ?? '/';
  if (path === '/healthz' || path.startsWith('/healthz?')) {
    const status = failHealth ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...identity, path, healthy: !failHealth }));
    return;
  }
  const failed = errorRate > 0 && Math.random() < errorRate;
  const status = failed ? 500 : 200;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ...identity, path, ...(failed ? { error: 'injected by DEMO_ERROR_RATE' } : {}) }));
}

const server = http.createServer((req, res) => {
  inFlight += 1;
  res.on('close', () => {
    inFlight -= 1;
  });
  if (shuttingDown) res.setHeader('connection', 'close');
  // Drain the request body so keep-alive connections stay usable.
  req.resume();
  req.on('end', () => {
    if (latencyMs > 0) setTimeout(() => answer(req, res), latencyMs);
    else answer(req, res);
  });
});

server.keepAliveTimeout = 5_000;

server.on('error', (err) => {
  process.stderr.write(`demo-app: ${err.message}\n`);
  process.exit(1);
});

server.listen(port, bindHost, () => {
  process.stdout.write(
    `demo-app: ${identity.service}/${identity.replica} revision ${identity.revision} listening on ${bindHost}:${port}\n`,
  );
});

function shutdown() {
  if (shuttingDown) return;
  shuttingDown = true;
  process.stdout.write(`demo-app: SIGTERM, finishing ${inFlight} request(s)\n`);
  // Stop accepting; close() waits for in-flight requests, idle keep-alive sockets are closed now.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}

if (flag(env.DEMO_IGNORE_SIGTERM)) {
  process.on('SIGTERM', () => {
    process.stdout.write('demo-app: ignoring SIGTERM\n');
  });
} else {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

const exitAfterMs = nonNegativeNumber('DEMO_EXIT_AFTER_MS', -1);
if (exitAfterMs >= 0) {
  setTimeout(() => process.exit(nonNegativeNumber('DEMO_EXIT_CODE', 1)), exitAfterMs).unref();
}
