// The `berth` command, as a person at a terminal next to the app would run it: same storage root
// (BERTH_ROOT, BERTH_CONFIG and CONTAINERS_REGISTRIES_CONF come from the runner's environment).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { env } from './env.mjs';

const run = promisify(execFile);

/** Runs `berth ARGS…` and returns its stdout; a failure carries the command's stderr. */
export async function berth(...args) {
  try {
    const { stdout } = await run(env.berth, args, { env: process.env, timeout: 120_000 });
    return stdout;
  } catch (e) {
    throw new Error(`berth ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}
