/**
 * The Node.js flags the operator runs with, wherever it is started (the image's CMD, `npm run
 * operator`, `npm run dev`, the benchmarks): a 1 MB young generation. V8's default (16 MB semi-spaces)
 * is sized for throughput of short-lived allocations; a controller's garbage is small and steady, so
 * the default mostly holds dead objects between scavenges. Measured at 1000 Capps: peak RSS 124 →
 * 91 MB, operator CPU 9.6 → 9.9 s (docs/benchmarks.md).
 */
export const OPERATOR_NODE_FLAGS = ['--max-semi-space-size=1'];
