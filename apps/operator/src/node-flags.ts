/**
 * The Node.js flags the operator runs with, wherever it is started (the image's entrypoint, `npm run
 * operator`, `npm run dev`, the benchmarks). A controller is long-lived, mostly idle, and spends its
 * time waiting on the API server; these trade some of V8's throughput for memory
 * (docs/benchmarks.md, "Memory"):
 *
 * - `--max-semi-space-size=1`: a 1 MB young generation. V8's default (16 MB semi-spaces) is sized for
 *   throughput of short-lived allocations; a controller's garbage is small and steady, so the default
 *   mostly holds dead objects between scavenges (peak RSS at 1000 Capps 124 → 91 MB).
 * - `--optimize-for-size`: V8 grows the old generation by smaller steps and compacts sooner; without
 *   it the peak while converging is 2–2.5× the live set (peak RSS at 1000 Capps 166 → 102 MB).
 * - `--no-opt --no-maglev`: no optimizing compilers (Ignition and Sparkplug only). Their code and the
 *   compilers' own pages are ~4–5 MB resident, more than the operator's whole heap at rest.
 *
 * Not `--lite-mode` or `--jitless`: they turn WebAssembly off, and Node's `fetch` (undici's HTTP
 * parser), which trait HTTP calls use, needs it.
 */
export const OPERATOR_NODE_FLAGS = [
  '--max-semi-space-size=1',
  '--optimize-for-size',
  '--no-opt',
  '--no-maglev',
];
