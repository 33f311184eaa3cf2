// What the runner (tests/e2e/run) hands the specs, read once. A spec run by hand needs the same
// variables: see the runner for how each is made.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests through tests/e2e/run`);
  return value;
}

export const e2eDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the specs save what a person should look at. */
export function screenshotsDir() {
  const dir = process.env.E2E_SCREENSHOTS ?? join(e2eDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const env = {
  /** `http://127.0.0.1:PORT/?token=TOKEN`, as `berth-desktop --serve` printed it. */
  get url() {
    return required('BERTH_URL');
  },
  /** The `berth` command, run against the same BERTH_ROOT as the app. */
  get berth() {
    return required('BERTH_BIN');
  },
  /** The busybox image in the test registry, `127.0.0.1:PORT/e2e/busybox:latest`. */
  get image() {
    return required('E2E_IMAGE');
  },
  /** The storage root every part of the run shares. */
  get root() {
    return required('BERTH_ROOT');
  },
  /** What tauri-driver starts as the application. */
  get application() {
    return required('E2E_APPLICATION');
  },
  /** tauri-driver's WebDriver port. */
  get driverPort() {
    return Number(required('E2E_DRIVER_PORT'));
  },
};
