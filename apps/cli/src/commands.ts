import {
  Capp,
  CAPP_API_VERSION,
  CAPP_KIND,
  CAPP_TRAIT_KIND,
  CappTrait,
  cappWarnings,
  formatIssues,
  formatWarnings,
  type KnativeConfigData,
  KnativeConfigError,
  type KnativeSettings,
  knativeSettings,
  PLATFORM_KNATIVE_FEATURES,
  platformCrds,
  validateCapp,
} from '@capp/capp-model';
import {
  applyTraits,
  ConfigError,
  parseAutoscaleDefaults,
  parseDnsConfig,
  renderChildren,
  TraitError,
  validateCappTrait,
  validateCappTraits,
} from '@capp/knative-adapter';
import { stringify } from 'yaml';

import { InputError, loadDirectory, loadObject } from './load';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type OutputFormat = 'yaml' | 'json';

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): CommandResult => ({ code, stdout: '', stderr });

const KNATIVE_CONFIG_MAPS: Readonly<Record<string, keyof KnativeConfigData>> = {
  'config-features': 'features',
  'config-defaults': 'defaults',
  'config-autoscaler': 'autoscaler',
};

/**
 * The Knative settings to judge Knative's rules with: the ConfigMaps given (`config-features`,
 * `config-defaults`, `config-autoscaler` of the target cluster, e.g. from `kubectl get cm -n
 * knative-serving config-features -o yaml`), else the platform's (its documented features).
 */
export function loadKnativeSettings(files: readonly string[]): KnativeSettings {
  const data: KnativeConfigData = files.length === 0 ? { features: PLATFORM_KNATIVE_FEATURES } : {};
  for (const file of files) {
    const cm = loadObject(file, 'ConfigMap') as {
      metadata?: { name?: string };
      data?: Record<string, string>;
    };
    const field = KNATIVE_CONFIG_MAPS[cm.metadata?.name ?? ''];
    if (!field)
      throw new InputError(
        `${file}: a Knative ConfigMap is named ${Object.keys(KNATIVE_CONFIG_MAPS).join(', ')}; got "${cm.metadata?.name ?? ''}"`,
      );
    data[field] = cm.data ?? {};
  }
  try {
    return knativeSettings(data);
  } catch (err) {
    if (err instanceof KnativeConfigError) throw new InputError(err.message);
    throw err;
  }
}

/** A valid Capp and its warnings (`warning: …` lines for stderr, empty when none), or the failed result. */
function loadCapp(
  file: string,
  knativeConfig: readonly string[] = [],
): { capp: Capp; warnings: string } | { result: CommandResult } {
  const knative = loadKnativeSettings(knativeConfig);
  const obj = loadObject(file, CAPP_KIND);
  const issues = validateCapp(obj, { knative });
  if (issues.length > 0) return { result: fail(1, formatIssues(issues).join('\n') + '\n') };
  const warnings = formatWarnings(cappWarnings(obj)).map((w) => `warning: ${w}\n`);
  return { capp: obj as unknown as Capp, warnings: warnings.join('') };
}

/** Catches input problems and turns them into the one-line, exit-code-2 answer. */
async function guarded(run: () => Promise<CommandResult> | CommandResult): Promise<CommandResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InputError || err instanceof ConfigError) return fail(2, `error: ${err.message}\n`);
    throw err;
  }
}

/** The CappTraits of `--traits DIR` by name, or the failed result (a trait that is itself invalid). */
function loadTraits(dir: string | undefined): Map<string, CappTrait> | { result: CommandResult } {
  const traits = new Map<string, CappTrait>();
  if (!dir) return traits;
  const problems: string[] = [];
  for (const { file, obj } of loadDirectory(dir, CAPP_TRAIT_KIND)) {
    const issues = validateCappTrait(obj);
    if (issues.length) problems.push(...formatIssues(issues).map((i) => `${file}: ${i}`));
    else traits.set((obj as unknown as CappTrait).metadata.name, obj as unknown as CappTrait);
  }
  return problems.length ? { result: fail(1, problems.join('\n') + '\n') } : traits;
}

/** What `--traits` is not given for: a Capp's traits are not checked then (say so). */
function traitsNotChecked(capp: Capp, dir: string | undefined): string {
  return capp.spec.traits?.length && !dir
    ? 'warning: spec.traits: not checked nor applied without --traits DIR (the CappTrait files)\n'
    : '';
}

export function validateCommand(
  file: string,
  traitsDir?: string,
  knativeConfig: readonly string[] = [],
): Promise<CommandResult> {
  return guarded(() => {
    const loaded = loadCapp(file, knativeConfig);
    if ('result' in loaded) return loaded.result;
    const traits = loadTraits(traitsDir);
    if ('result' in traits) return traits.result;
    if (traitsDir) {
      const issues = validateCappTraits(loaded.capp, (n) => traits.get(n));
      if (issues.length) return fail(1, formatIssues(issues).join('\n') + '\n');
    }
    const valid = `${file}: valid ${CAPP_API_VERSION} ${CAPP_KIND} "${loaded.capp.metadata.name ?? ''}"\n`;
    return { ...ok(valid), stderr: loaded.warnings + traitsNotChecked(loaded.capp, traitsDir) };
  });
}

export function renderCommand(opts: {
  file: string;
  autoscaleDefaults?: string;
  dnsConfig?: string;
  traits?: string;
  knativeConfig?: readonly string[];
  output: OutputFormat;
}): Promise<CommandResult> {
  return guarded(async () => {
    const loaded = loadCapp(opts.file, opts.knativeConfig);
    if ('result' in loaded) return loaded.result;
    const traits = loadTraits(opts.traits);
    if ('result' in traits) return traits.result;
    const autoscale = parseAutoscaleDefaults(
      opts.autoscaleDefaults ? loadObject(opts.autoscaleDefaults, 'ConfigMap') : undefined,
    );
    const dns = opts.dnsConfig ? parseDnsConfig(loadObject(opts.dnsConfig, 'ConfigMap')) : undefined;
    let children = renderChildren(loaded.capp, { autoscale, dns });
    if (opts.traits) {
      try {
        children = (await applyTraits({ capp: loaded.capp, children, lookup: (n) => traits.get(n) }))
          .children;
      } catch (err) {
        if (err instanceof TraitError) return fail(1, `error: ${err.reason}: ${err.message}\n`);
        throw err;
      }
    }
    const stderr = loaded.warnings + traitsNotChecked(loaded.capp, opts.traits);
    return { ...ok(formatObjects(children, opts.output)), stderr };
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
