// Bench child process: the baseline. node:http listener + one undici Pool with keep-alive,
// streaming both ways, no routing, metrics or header policy. argv[2] is the upstream origin.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (upstream === undefined || typeof process.send !== 'function') {
  throw new Error('bare-forwarder: run by the bench with the upstream origin as argument');
}
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 60_000 });
// undici refuses these request headers; they are hop-by-hop anyway.
const hopByHop = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te'];

const server = createServer((req, res) => {
  const headers = { ...req.headers };
  const hasBody = headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined;
  for (const name of hopByHop) delete headers[name];
  pool.stream(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody ? req : null },
    ({ statusCode, headers: upstreamHeaders }) => {
      delete upstreamHeaders.connection;
      delete upstreamHeaders['keep-alive'];
      res.writeHead(statusCode, upstreamHeaders);
      return res;
    },
    (err) => {
      if (err === null) return;
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502).end();
    },
  );
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('bare-forwarder: no port');
  process.send?.({ port: address.port });
});
process.on('disconnect', () => process.exit(0));
