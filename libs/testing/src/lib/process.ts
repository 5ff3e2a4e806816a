/**
 * Child processes that never outlive their owner.
 *
 * Every server the harness starts (etcd, kube-apiserver, PostgreSQL, ...) is a child of a
 * {@link ProcessGroup}. Three layers make sure none of them is left behind:
 *
 * 1. `stop()` — SIGTERM (or the process's own stop signal), SIGKILL after a grace period, in reverse
 *    start order; then the group's throwaway directories are removed.
 * 2. Process hooks — on `exit`, and on SIGINT/SIGTERM/SIGHUP when nobody else handles the signal,
 *    every live child gets its stop signal synchronously and the signal keeps its default meaning;
 *    when the program handles the signal itself, the groups are stopped gracefully meanwhile.
 * 3. A watchdog — one detached `sh` per group that polls the owner pid once a second. When the owner
 *    is gone (even after SIGKILL, when no hook runs) it signals every pid listed in the group's pid
 *    file, escalates to SIGKILL after 5 s and removes the throwaway directories. `stop()` ends the
 *    watchdog once the children are gone, so it never acts on recycled pids.
 *
 * The pid file (`<stateDir>/<group>.pids`) also lets another process (jest teardown, `cluster down`)
 * find and kill the children: see {@link killPidFile}.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Signal that asks the process to shut down quickly (PostgreSQL: SIGINT = fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
}

const WATCHDOG_SCRIPT = `# capp-testing watchdog: kills the group's processes once their owner is gone.
parent=$1; pidfile=$2; shift 2
alive() { [ -e /proc/$1 ] && [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1)" != Z ]; }
# The pids are re-read every second while the owner lives: another group's cleanup may remove the
# pid file by the time the owner is found dead.
known=
while alive "$parent"; do
  known=$(cut -d' ' -f1 "$pidfile" 2>/dev/null)
  sleep 1
done
pids="$known $(cut -d' ' -f1 "$pidfile" 2>/dev/null)"
if [ -n "$(echo $pids)" ]; then
  kill -TERM $pids 2>/dev/null
  i=0
  while [ $i -lt 20 ]; do
    any=
    for p in $pids; do alive "$p" && any=1; done
    [ -z "$any" ] && break
    sleep 0.25; i=$((i+1))
  done
  kill -KILL $pids 2>/dev/null
fi
for d in "$@"; do rm -rf "$d"; done
`;

const liveGroups = new Set<ProcessGroup>();
let hooksInstalled = false;

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const group of liveGroups) group.signalAllSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      if (process.listenerCount(signal) <= 1) {
        // Nobody else handles the signal: keep its default meaning (die now). The children get their
        // stop signal right away; the watchdogs escalate and remove the directories.
        for (const group of liveGroups) group.signalAllSync();
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      } else {
        // The program handles the signal itself (e.g. tools/env/serve.ts): stop gracefully meanwhile.
        void Promise.allSettled([...liveGroups].map((g) => g.stop()));
      }
    };
    process.on(signal, handler);
  }
}

/** Sleeps `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when a process with this pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** True when `pid` is alive and still the process that started at `startTime` (see {@link processStartTime}). */
export function sameProcessAlive(pid: number, startTime: string | undefined): boolean {
  return pidAlive(pid) && (startTime === undefined || processStartTime(pid) === startTime);
}

/** Sends `signal`, waits up to `graceMs` for the pids to vanish, then SIGKILLs what is left. */
export async function killPids(
  pids: number[],
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  const send = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  pids.forEach((pid) => send(pid, signal));
  const deadline = Date.now() + graceMs;
  while (pids.some(pidAlive) && Date.now() < deadline) await delay(50);
  pids.filter(pidAlive).forEach((pid) => send(pid, 'SIGKILL'));
  while (pids.some(pidAlive) && Date.now() < deadline + 2000) await delay(20);
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22); identifies it beyond its pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Kills every process listed in a group pid file (used by teardown and `cluster down`) and returns
 * how many there were; idempotent.
 * Lines are `<pid> <start time>`: a pid that now belongs to another process (reboot, reuse) is spared.
 */
export async function killPidFile(pidFile: string, graceMs = 5000): Promise<number> {
  if (!existsSync(pidFile)) return 0;
  const pids = readFileSync(pidFile, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([pid, start]) => Number(pid) > 0 && start !== undefined && processStartTime(Number(pid)) === start,
    )
    .map(([pid]) => Number(pid));
  await killPids(pids, 'SIGTERM', graceMs);
  rmSync(pidFile, { force: true });
  return pids.length;
}

/** Last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A set of child processes owned by this process, with logs in `logDir`, a pid file and a watchdog.
 * `cleanupDirs` are removed on stop (and by the watchdog when the owner dies).
 */
export class ProcessGroup {
  private readonly procs: ManagedProcess[] = [];
  private readonly stopSignals = new Map<number, NodeJS.Signals>();
  private watchdog: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  readonly pidFile: string;

  constructor(
    readonly name: string,
    readonly logDir: string,
    private readonly cleanupDirs: string[] = [],
  ) {
    this.pidFile = join(logDir, `${name}.pids`);
  }

  /** Adds a directory to remove on stop (and by the watchdog). Must be called before the first spawn. */
  addCleanupDir(dir: string): void {
    this.cleanupDirs.push(dir);
  }

  spawn(name: string, command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
    if (this.stopping) throw new Error(`${this.name}: cannot start ${name} while stopping`);
    this.arm();
    const logFile = join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      writeFileSync(fd, `\n### ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: false,
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`${this.name}: could not start ${command} (see ${logFile})`);
    const pid = child.pid;
    let running = true;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        this.writePidFile();
        resolve({ code, signal });
      });
      child.once('error', () => {
        running = false;
        resolve({ code: null, signal: null });
      });
    });
    const proc: ManagedProcess = { name, pid, logFile, child, exited, isRunning: () => running };
    this.procs.push(proc);
    this.stopSignals.set(pid, options.stopSignal ?? 'SIGTERM');
    this.writePidFile();
    return proc;
  }

  /**
   * Registers the exit hooks and starts the watchdog (done by the first spawn). A group without
   * processes can be armed just to have its directories removed when the owner dies.
   */
  arm(): void {
    installProcessHooks();
    liveGroups.add(this);
    this.ensureWatchdog();
  }

  /** Live pids, in start order. */
  pids(): number[] {
    return this.procs.filter((p) => p.isRunning()).map((p) => p.pid);
  }

  /**
   * Polls `check` until it returns a value other than `undefined`/`false`. Fails early with the log
   * tail when one of `watch` exits, and with `description` after `timeoutMs`.
   */
  async waitFor<T>(
    description: string,
    check: () => Promise<T | undefined | false> | T | undefined | false,
    { timeoutMs = 60_000, intervalMs = 100, watch = this.procs } = {},
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      const dead = watch.find((p) => !p.isRunning());
      if (dead) {
        throw new Error(
          `${this.name}: ${dead.name} exited while waiting for ${description}; last lines of ${dead.logFile}:\n${tailFile(dead.logFile)}`,
        );
      }
      try {
        const value = await check();
        if (value !== undefined && value !== false) return value;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        const logs = watch.map((p) => `--- ${p.logFile}\n${tailFile(p.logFile, 15)}`).join('\n');
        throw new Error(
          `${this.name}: timed out after ${timeoutMs} ms waiting for ${description}${detail}\n${logs}`,
        );
      }
      await delay(intervalMs);
    }
  }

  /**
   * Stops the children in reverse start order and removes the cleanup directories (unless
   * `removeDirs` is false, e.g. to keep logs after a failed start). Idempotent.
   */
  stop(graceMs = 5000, removeDirs = true): Promise<void> {
    this.stopping ??= (async () => {
      for (const proc of [...this.procs].reverse()) {
        if (!proc.isRunning()) continue;
        await killPids([proc.pid], this.stopSignals.get(proc.pid) ?? 'SIGTERM', graceMs);
        await Promise.race([proc.exited, delay(1000)]);
      }
      rmSync(this.pidFile, { force: true });
      if (removeDirs) for (const dir of this.cleanupDirs) rmSync(dir, { recursive: true, force: true });
      // Last, so an owner that dies half-way through stop() is still covered.
      this.killWatchdog();
      liveGroups.delete(this);
    })();
    return this.stopping;
  }

  /** Synchronous last resort from the `exit` hook: signal everything; the watchdog escalates. */
  signalAllSync(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, this.stopSignals.get(pid) ?? 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  }

  private writePidFile(): void {
    if (this.stopping) return;
    const lines = this.pids().map((pid) => `${pid} ${processStartTime(pid) ?? '?'}`);
    try {
      writeFileSync(this.pidFile, lines.join('\n') + '\n');
    } catch {
      /* the state directory is gone (removed by hand): nothing left to record */
    }
  }

  private ensureWatchdog(): void {
    if (this.watchdog) return;
    // A script file (not `sh -c`) keeps `ps` readable: sh <group>.watchdog.sh <owner pid> <pid file> <dirs...>
    const script = join(this.logDir, `${this.name}.watchdog.sh`);
    writeFileSync(script, WATCHDOG_SCRIPT);
    this.watchdog = spawn('sh', [script, String(process.pid), this.pidFile, ...this.cleanupDirs], {
      detached: true,
      stdio: 'ignore',
    });
    this.watchdog.unref();
  }

  private killWatchdog(): void {
    const pid = this.watchdog?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    this.watchdog = undefined;
  }
}
