import {
  Capp,
  CAPP_API_VERSION,
  CAPP_KIND,
  cappWarnings,
  formatIssues,
  formatWarnings,
  platformCrds,
  validateCapp,
} from '@capp/capp-model';
import { ConfigError, parseAutoscaleDefaults, parseDnsConfig, renderChildren } from '@capp/knative-adapter';
import { stringify } from 'yaml';

import { InputError, loadObject } from './load';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type OutputFormat = 'yaml' | 'json';

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): CommandResult => ({ code, stdout: '', stderr });

/** A valid Capp and its warnings (`warning: …` lines for stderr, empty when none), or the failed result. */
function loadCapp(file: string): { capp: Capp; warnings: string } | { result: CommandResult } {
  const obj = loadObject(file, CAPP_KIND);
  const issues = validateCapp(obj);
  if (issues.length > 0) return { result: fail(1, formatIssues(issues).join('\n') + '\n') };
  const warnings = formatWarnings(cappWarnings(obj)).map((w) => `warning: ${w}\n`);
  return { capp: obj as unknown as Capp, warnings: warnings.join('') };
}

/** Catches input problems and turns them into the one-line, exit-code-2 answer. */
function guarded(run: () => CommandResult): CommandResult {
  try {
    return run();
  } catch (err) {
    if (err instanceof InputError || err instanceof ConfigError) return fail(2, `error: ${err.message}\n`);
    throw err;
  }
}

export function validateCommand(file: string): CommandResult {
  return guarded(() => {
    const loaded = loadCapp(file);
    if ('result' in loaded) return loaded.result;
    const valid = `${file}: valid ${CAPP_API_VERSION} ${CAPP_KIND} "${loaded.capp.metadata.name ?? ''}"\n`;
    return { ...ok(valid), stderr: loaded.warnings };
  });
}

export function renderCommand(opts: {
  file: string;
  autoscaleDefaults?: string;
  dnsConfig?: string;
  output: OutputFormat;
}): CommandResult {
  return guarded(() => {
    const loaded = loadCapp(opts.file);
    if ('result' in loaded) return loaded.result;
    const autoscale = parseAutoscaleDefaults(
      opts.autoscaleDefaults ? loadObject(opts.autoscaleDefaults, 'ConfigMap') : undefined,
    );
    const dns = opts.dnsConfig ? parseDnsConfig(loadObject(opts.dnsConfig, 'ConfigMap')) : undefined;
    const children = renderChildren(loaded.capp, { autoscale, dns });
    return { ...ok(formatObjects(children, opts.output)), stderr: loaded.warnings };
  });
}

export function crdCommand(output: OutputFormat): CommandResult {
  return ok(
    formatObjects(
      platformCrds().map((c) => c.crd),
      output,
    ),
  );
}

/** A multi-document YAML stream, or a JSON `List` (what `kubectl apply -f -` accepts either way). */
export function formatObjects(objects: readonly object[], output: OutputFormat): string {
  if (output === 'json') {
    const body = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
    return JSON.stringify(body, null, 2) + '\n';
  }
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
