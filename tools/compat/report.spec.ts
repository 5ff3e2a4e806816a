import { formatSummary, parseGinkgoReport } from './report';

const report = JSON.stringify([
  {
    SuiteDescription: 'Capp Suite',
    SpecReports: [
      { LeafNodeType: 'SynchronizedBeforeSuite', State: 'passed', RunTime: 1e9 },
      {
        ContainerHierarchyTexts: ['Validate capp creation'],
        LeafNodeType: 'It',
        LeafNodeText: 'Should validate capp spec',
        LeafNodeLocation: { FileName: '/x/test/e2e_tests/capp_e2e_test.go', LineNumber: 17 },
        State: 'passed',
        RunTime: 2.4e9,
      },
      {
        ContainerHierarchyTexts: ['Validate DNSRecord functionality'],
        LeafNodeType: 'It',
        LeafNodeText: 'Should create DNSRecord',
        LeafNodeLocation: { FileName: '/x/test/e2e_tests/dnsrecord_e2e_test.go', LineNumber: 14 },
        State: 'failed',
        RunTime: 3e9,
        Failure: {
          Message: 'Expected\n    <string>: \nto equal\n    <string>: capp',
          Location: { FileName: '/x/test/e2e_tests/dnsrecord_e2e_test.go', LineNumber: 29 },
        },
      },
      {
        ContainerHierarchyTexts: ['Validate Logger functionality'],
        LeafNodeType: 'It',
        LeafNodeText: 'Should cleanup',
        LeafNodeLocation: { FileName: '/x/test/e2e_tests/logger_e2e_test.go', LineNumber: 103 },
        State: 'panicked',
        RunTime: 1e8,
        Failure: { Message: 'Test Panicked', ForwardedPanic: 'runtime error: invalid memory address' },
      },
      {
        ContainerHierarchyTexts: ['Validate capp creation'],
        LeafNodeType: 'It',
        LeafNodeText: 'not run',
        LeafNodeLocation: { FileName: '/x/test/e2e_tests/capp_e2e_test.go', LineNumber: 9 },
        State: 'skipped',
      },
    ],
  },
]);

describe('the compat summary', () => {
  it('lists every It in source order with its outcome and a one-line failure with where it failed', () => {
    const { specs, suiteFailures } = parseGinkgoReport(report);
    expect(suiteFailures).toEqual([]);
    expect(specs.map((s) => [s.name, s.outcome, s.location])).toEqual([
      ['Validate capp creation › not run', 'skipped', 'capp_e2e_test.go:9'],
      ['Validate capp creation › Should validate capp spec', 'passed', 'capp_e2e_test.go:17'],
      ['Validate DNSRecord functionality › Should create DNSRecord', 'failed', 'dnsrecord_e2e_test.go:14'],
      ['Validate Logger functionality › Should cleanup', 'failed', 'logger_e2e_test.go:103'],
    ]);
    expect(specs[2].failure).toBe('Expected <string>: to equal <string>: capp (dnsrecord_e2e_test.go:29)');
    expect(specs[3].failure).toBe('panic: runtime error: invalid memory address');
  });

  it('reports a failed BeforeSuite, which fails every spec without running it', () => {
    const json = JSON.stringify([
      {
        SpecReports: [
          { LeafNodeType: 'SynchronizedBeforeSuite', State: 'failed', Failure: { Message: 'no namespace' } },
        ],
      },
    ]);
    expect(parseGinkgoReport(json).suiteFailures).toEqual(['SynchronizedBeforeSuite: no namespace']);
  });

  it('ends with the total line', () => {
    const text = formatSummary(parseGinkgoReport(report));
    expect(text.split('\n').at(-1)).toBe('compat: 1 passed, 2 failed, 1 skipped');
    expect(text).toContain(' 3  FAIL  Validate DNSRecord functionality › Should create DNSRecord');
  });
});
