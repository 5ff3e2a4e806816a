/** The suite's result, per spec, from Ginkgo's JSON report (`-ginkgo.json-report`). */

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface SpecResult {
  /** `Describe text › It text`. */
  name: string;
  /** Where the spec is written (`file.go:123`): the table's order, whatever order the specs ran in. */
  location: string;
  outcome: Outcome;
  /** Ginkgo's own state (`panicked`, `timedout`, … are failures). */
  state: string;
  seconds: number;
  /** First line of the failure message, and where it failed (`file.go:123`). */
  failure?: string;
}

export interface SuiteResult {
  specs: SpecResult[];
  /** Failures outside any spec (BeforeSuite, AfterSuite). */
  suiteFailures: string[];
}

interface GinkgoSpecReport {
  ContainerHierarchyTexts?: string[] | null;
  LeafNodeType?: string;
  LeafNodeText?: string;
  LeafNodeLocation?: { FileName?: string; LineNumber?: number };
  State?: string;
  RunTime?: number;
  Failure?: {
    Message?: string;
    Location?: { FileName?: string; LineNumber?: number };
    ForwardedPanic?: string;
  };
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

function failureText(r: GinkgoSpecReport): string | undefined {
  const f = r.Failure;
  if (!f) return undefined;
  const where = f.Location?.FileName
    ? ` (${f.Location.FileName.split('/').pop()}:${f.Location.LineNumber ?? '?'})`
    : '';
  const message = f.ForwardedPanic ? `panic: ${f.ForwardedPanic}` : (f.Message ?? '');
  const text = oneLine(message);
  return `${text.length > 300 ? `${text.slice(0, 297)}...` : text}${where}`;
}

function outcome(state: string): Outcome {
  if (state === 'passed') return 'passed';
  if (state === 'skipped' || state === 'pending') return 'skipped';
  return 'failed';
}

/** Every `It` of the report, in source order (file, line), and the failures of suite-level nodes. */
export function parseGinkgoReport(json: string): SuiteResult {
  const reports = JSON.parse(json) as Array<{ SpecReports?: GinkgoSpecReport[] | null }>;
  const specs: SpecResult[] = [];
  const suiteFailures: string[] = [];
  for (const report of reports) {
    for (const r of report.SpecReports ?? []) {
      const state = r.State ?? 'unknown';
      if (r.LeafNodeType !== 'It') {
        if (outcome(state) === 'failed') suiteFailures.push(`${r.LeafNodeType}: ${failureText(r) ?? state}`);
        continue;
      }
      const failure = outcome(state) === 'failed' ? failureText(r) : undefined;
      specs.push({
        name: [...(r.ContainerHierarchyTexts ?? []), r.LeafNodeText ?? ''].join(' › '),
        location: `${r.LeafNodeLocation?.FileName?.split('/').pop() ?? '?'}:${r.LeafNodeLocation?.LineNumber ?? 0}`,
        outcome: outcome(state),
        state,
        seconds: Math.round((r.RunTime ?? 0) / 1e9),
        ...(failure ? { failure } : {}),
      });
    }
  }
  const order = (s: SpecResult): [string, number] => {
    const [file, line] = s.location.split(':');
    return [file, Number(line)];
  };
  specs.sort((a, b) => {
    const [fa, la] = order(a);
    const [fb, lb] = order(b);
    return fa === fb ? la - lb : fa.localeCompare(fb);
  });
  return { specs, suiteFailures };
}

export function totals(specs: readonly SpecResult[]): Record<Outcome, number> {
  const count = (o: Outcome): number => specs.filter((s) => s.outcome === o).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

/** A numbered table (one spec a line), its failures below it, and the closing total line. */
export function formatSummary(result: SuiteResult): string {
  const { specs, suiteFailures } = result;
  const width = Math.max(4, ...specs.map((s) => s.name.length));
  const lines = specs.map(
    (s, i) =>
      `${String(i + 1).padStart(2)}  ${s.outcome === 'passed' ? 'PASS' : s.outcome === 'failed' ? 'FAIL' : 'SKIP'}  ` +
      `${s.name.padEnd(width)}  ${String(s.seconds).padStart(4)} s`,
  );
  const failures = specs.flatMap((s, i) =>
    s.outcome === 'failed' ? [`${String(i + 1).padStart(2)}  ${s.failure ?? s.state}`] : [],
  );
  const t = totals(specs);
  return [
    ...lines,
    ...(failures.length > 0 ? ['', 'failures:', ...failures] : []),
    ...(suiteFailures.length > 0 ? ['', 'suite failures:', ...suiteFailures] : []),
    '',
    `compat: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`,
  ].join('\n');
}
