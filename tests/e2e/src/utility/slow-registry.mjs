// A registry that answers slowly, so a pull is still downloading when a test cancels it.

import { createServer, request } from 'node:http';

/**
 * An HTTP proxy to the test registry that sends blobs at `rate` bytes a second (the rest at
 * once), so a pull is still downloading when the test cancels it.
 */
export async function slowRegistry(target, rate) {
  const [host, port] = target.split(':');
  const server = createServer((req, res) => {
    const up = request({ host, port, path: req.url, method: req.method, headers: { ...req.headers, host: target } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      if (!/\/blobs\/sha256:/.test(req.url ?? '')) return r.pipe(res);
      r.on('data', (chunk) => {
        r.pause();
        res.write(chunk, () => setTimeout(() => r.resume(), (chunk.length / rate) * 1000));
      });
      r.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { addr: `127.0.0.1:${server.address().port}`, close: () => { server.closeAllConnections(); server.close(); } };
}
