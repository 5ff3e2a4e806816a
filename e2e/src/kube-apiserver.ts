import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { KubeRest } from '@capp/kube';
import { type ControlPlane, killPids, ProcessGroup } from '@capp/testing';

/** The control plane's kube-apiserver process: its pid and command line. */
export function apiserverProcess(cp: ControlPlane): { pid: number; argv: string[] } {
  const found = readFileSync(cp.pidFile, 'utf8')
    .split('\n')
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => pid > 0)
    .map((pid) => {
      try {
        return { pid, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) };
      } catch {
        return { pid, argv: [] };
      }
    })
    .find((p) => p.argv[0] !== undefined && basename(p.argv[0]) === 'kube-apiserver');
  if (!found) throw new Error(`no kube-apiserver among the pids of ${cp.pidFile}`);
  return found;
}

/**
 * Kills the control plane's kube-apiserver alone (etcd and the controller-manager keep running) and
 * returns how to start it again with the very same flags (port, certificates, etcd): the harness
 * has no apiserver restart of its own. The new process lives in a process group of its own, whose
 * stop is handed to `onCleanup` (call it after the test, before the control plane's stop).
 */
export async function stopApiserver(
  cp: ControlPlane,
  onCleanup: (stop: () => Promise<void>) => void,
): Promise<{ start(): Promise<void> }> {
  const found = apiserverProcess(cp);
  const [command, ...args] = found.argv as [string, ...string[]];
  // SIGKILL: on SIGTERM the apiserver drains its open watches for seconds before it exits.
  await killPids([found.pid], 'SIGKILL', 5000);
  return {
    async start(): Promise<void> {
      const group = new ProcessGroup(`kube-apiserver-restarted-${found.pid}`, cp.stateDir);
      onCleanup(() => group.stop());
      group.spawn('kube-apiserver', command, args);
      await group.waitFor(
        'the restarted kube-apiserver /readyz',
        async () =>
          (await KubeRest.fromTarget(cp.target).raw('GET', '/readyz', { timeoutMs: 3000 })).status === 200,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    },
  };
}
