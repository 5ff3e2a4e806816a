/** Headless Chromium for browser tests (e.g. the API's Swagger UI), from Debian's `chromium` package. */
import { existsSync } from 'node:fs';

import { ensureAptPackages } from './system';

/** Debian's Chromium (`apt-get install chromium`). `CHROMIUM_PATH` overrides it. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launch arguments for Chromium here: no sandbox (root in a container), no GPU, and none of the
 * background network traffic (component updates, sync, QUIC probes) that makes it hang on a closed
 * network. It must also run headless with a fresh `--user-data-dir`: playwright-core's
 * `chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] })` adds both.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath(): string {
  return process.env['CHROMIUM_PATH'] || DEFAULT_CHROMIUM_PATH;
}

let ensured: Promise<string> | undefined;

/**
 * The path of a Chromium executable, installing Debian's `chromium` with apt on first use (once per
 * process; idempotent across processes: nothing happens when it is already installed).
 */
export function ensureChromium(): Promise<string> {
  ensured ??= (async () => {
    const path = chromiumPath();
    if (!existsSync(path) && path !== DEFAULT_CHROMIUM_PATH) {
      throw new Error(`CHROMIUM_PATH=${path} does not exist`);
    }
    await ensureAptPackages(['chromium'], () => existsSync(path));
    return path;
  })();
  ensured.catch(() => (ensured = undefined));
  return ensured;
}
