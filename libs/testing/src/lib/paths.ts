import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (this file lives at libs/testing/src/lib/). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** Upstream CRDs of the child kinds, shared between the worktrees (see docs/DESIGN.md §7). */
export const SHARED_CRDS_DIR = resolve(REPO_ROOT, '..', 'shared', 'crds');

/** Where `tools/cluster.ts up` keeps its long-lived control plane. */
export const CLUSTER_STATE_DIR = join(REPO_ROOT, '.cache', 'cluster');

/** Creates `dir` (or a fresh temporary directory when `dir` is undefined) and returns its path. */
export function ensureDir(dir: string | undefined, prefix: string): string {
  if (dir === undefined) return mkdtempSync(join(tmpdir(), prefix));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  return resolve(dir);
}

/** True when the CAPP_TEST_KEEP environment variable asks to keep state directories for debugging. */
export function keepFromEnv(): boolean {
  const value = process.env['CAPP_TEST_KEEP'];
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}
