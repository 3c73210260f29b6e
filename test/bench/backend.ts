// Bench child process: the upstream every target forwards to. A node:http server on 127.0.0.1
// answering a fixed small body with keep-alive; reports its port to the parent over IPC.
import { createServer } from 'node:http';
import { BACKEND_BODY } from './backend-body.js';

if (typeof process.send !== 'function') {
  throw new Error('backend: run by the bench (needs an IPC channel to report its port)');
}
const body = Buffer.from(BACKEND_BODY);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Longer than any idle gap between rounds, so no proxy ever races a keep-alive close.
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('backend: no port');
  process.send?.({ port: address.port });
});
// The parent went away (even by SIGKILL): do not outlive it.
process.on('disconnect', () => process.exit(0));
