// Waiting for a condition instead of sleeping, and the host side of the network.

import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` until it returns a value other than undefined/false, and returns that value;
 * fails after `timeout` ms with `what` and the last error the probe threw.
 */
export async function waitFor(what, probe, { timeout = 15_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(interval);
  }
}

/** Waits until `locator` reads exactly `want`; on a timeout, says what it read last. */
export async function waitForText(locator, want, options) {
  return waitFor(`"${want}"`, async () => {
    const got = await locator.textContent();
    if (got !== want) throw new Error(`it reads "${got}"`);
    return true;
  }, options);
}

/** A TCP port nothing on the host listens on right now, outside the ephemeral range. */
export async function freePort() {
  // Below the kernel's ephemeral range (32768 and up here): a port the kernel hands out can
  // become the local port of any outgoing connection (the browser's, the registry's) before
  // the test publishes it, and then the engine rightly says it is in use.
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
  throw new Error('no free port between 20000 and 32000 on 0.0.0.0');
}

function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** GET `url` with a short timeout; resolves to {status, body}, rejects when nothing answers. */
export async function get(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}
