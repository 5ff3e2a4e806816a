// Preload (`node -r tools/bench/cpu-profile.cjs …`) for servers that a signal ends without the clean
// exit `--cpu-prof` needs: samples the process's CPU from its start, and on each SIGUSR2 writes what
// was sampled since the previous one to CPU_PROFILE_DIR/<CPU_PROFILE_NAME>-<n>.cpuprofile (Chrome
// DevTools, speedscope) and starts again — so a benchmark brackets each phase with two signals.
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let n = 0;
  const start = () => session.post('Profiler.start');
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 1000 }, start),
  );
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) process.stderr.write(`cpu profile: ${err.message}\n`);
      else {
        const file = join(dir, `${process.env.CPU_PROFILE_NAME ?? `pid${process.pid}`}-${n++}.cpuprofile`);
        writeFileSync(file, JSON.stringify(result.profile));
      }
      start();
    });
  });
}
