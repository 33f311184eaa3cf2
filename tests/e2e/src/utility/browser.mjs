// Debian's Chromium driven by playwright-core: never a browser download of its own. Each launch
// gets a new, empty profile; the flags keep Chromium off a network this machine does not have.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A browser context with a fresh profile; `close()` ends Chromium and removes the profile.
 * Console errors and page errors of every page are collected in `problems`.
 */
export async function launchBrowser({ width = 1360, height = 820 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'berth-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width, height },
  });
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    problems,
    async newPage() {
      return context.pages()[0] ?? context.newPage();
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
