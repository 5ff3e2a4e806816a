import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from './paths';

export interface KubeBinaries {
  binDir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
}

let cached: Promise<KubeBinaries> | undefined;

/**
 * kube-apiserver, kube-controller-manager and etcd, built once per version by `tools/kube/build.sh`
 * (instant when already built; serialised by a lock when another build runs). `CAPP_KUBE_BIN_DIR`
 * overrides the build with a directory that already holds the three binaries.
 */
export function kubeBinaries(): Promise<KubeBinaries> {
  cached ??= resolveBinaries().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function resolveBinaries(): Promise<KubeBinaries> {
  const override = process.env['CAPP_KUBE_BIN_DIR'];
  const binDir =
    override && override !== '' ? override : await runBuildScript(join('tools', 'kube', 'build.sh'));
  const bins: KubeBinaries = {
    binDir,
    etcd: join(binDir, 'etcd'),
    kubeApiserver: join(binDir, 'kube-apiserver'),
    kubeControllerManager: join(binDir, 'kube-controller-manager'),
  };
  const missing = [bins.etcd, bins.kubeApiserver, bins.kubeControllerManager].filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`kube binaries missing: ${missing.join(', ')}`);
  return bins;
}

let knativeAdmission: Promise<string> | undefined;

/**
 * The knative-admission binary (Knative Serving's own defaulting and validation, see
 * tools/knative/admission), built by `tools/knative/build.sh` once per source version.
 */
export function knativeAdmissionBinary(): Promise<string> {
  knativeAdmission ??= runBuildScript(join('tools', 'knative', 'build.sh')).catch((err: unknown) => {
    knativeAdmission = undefined;
    throw err;
  });
  return knativeAdmission;
}

let ocm: Promise<OcmBuild> | undefined;

/** Open Cluster Management's work agent and placement controller, and the CRDs of its API. */
export interface OcmBuild {
  dir: string;
  work: string;
  placement: string;
  crdDir: string;
}

/**
 * OCM's `work` and `placement` binaries and its CRDs, built by `tools/ocm/build.sh` once per version
 * (instant when already built; serialised by a lock). `CAPP_OCM_DIR` names an existing build instead.
 */
export function ocmBuild(): Promise<OcmBuild> {
  ocm ??= (async () => {
    const override = process.env['CAPP_OCM_DIR'];
    const dir =
      override && override !== '' ? override : await runBuildScript(join('tools', 'ocm', 'build.sh'));
    const build = {
      dir,
      work: join(dir, 'bin', 'work'),
      placement: join(dir, 'bin', 'placement'),
      crdDir: join(dir, 'crds'),
    };
    const missing = [build.work, build.placement, build.crdDir].filter((f) => !existsSync(f));
    if (missing.length > 0) throw new Error(`OCM build incomplete: ${missing.join(', ')} missing`);
    return build;
  })().catch((err: unknown) => {
    ocm = undefined;
    throw err;
  });
  return ocm;
}

/** Runs a build script of the repository; its last stdout line is the absolute path it built. */
function runBuildScript(relativePath: string): Promise<string> {
  const script = join(REPO_ROOT, relativePath);
  if (!existsSync(script)) return Promise.reject(new Error(`${script} not found`));
  return new Promise((resolve, reject) => {
    // Progress (stderr) streams through so a first, long build is visible; stdout ends with the bin dir.
    const child = spawn('bash', [script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.on('error', (err) => reject(new Error(`could not run ${script}: ${err.message}`)));
    // 'close', not 'exit': a fast script can exit before its stdout has been read.
    child.on('close', (code, signal) => {
      const lines = stdout.trim().split('\n');
      const last = lines[lines.length - 1]?.trim() ?? '';
      if (code !== 0) {
        reject(new Error(`${script} failed (${signal ?? `exit ${code}`}); see its output above`));
      } else if (!last.startsWith('/')) {
        reject(
          new Error(
            `${script} did not print an absolute path as its last line (got ${JSON.stringify(last)})`,
          ),
        );
      } else {
        resolve(last);
      }
    });
  });
}
