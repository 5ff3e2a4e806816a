import { parseArgs } from 'node:util';

import { CommandResult, crdCommand, OutputFormat, renderCommand, validateCommand } from './commands';

const USAGE = `usage: capp <command> [options]

commands:
  render -f CAPP.yaml [--autoscale-defaults CM.yaml] [--dns-config CM.yaml] [--traits DIR] [--knative-config CM.yaml]... [-o yaml|json]
         print the children the operator would apply, as a YAML stream (with --traits, the
         Capp's spec.traits applied from the CappTrait files of DIR)
  validate -f CAPP.yaml [--traits DIR] [--knative-config CM.yaml]...
         exit 0 when valid; else print "<field path>: <message>" per problem and exit 1 (with
         --traits, also: each trait exists in DIR, its properties fit its schema, it applies)

  --knative-config: the cluster's knative-serving ConfigMap config-features, config-defaults or
         config-autoscaler (repeatable); Knative's rules follow them. Default: the platform's features.
  crd [-o yaml|json]
         print the CustomResourceDefinitions (Capp, CappRevision, CappTrait)
`;

function usageError(message: string): CommandResult {
  return { code: 2, stdout: '', stderr: `error: ${message}\n${USAGE}` };
}

export async function run(argv: string[]): Promise<CommandResult> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    return { code: command ? 0 : 2, stdout: command ? USAGE : '', stderr: command ? '' : USAGE };
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string', short: 'f' },
        output: { type: 'string', short: 'o', default: 'yaml' },
        'autoscale-defaults': { type: 'string' },
        'dns-config': { type: 'string' },
        'knative-config': { type: 'string', multiple: true },
        traits: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  const output = values['output'] as string;
  if (output !== 'yaml' && output !== 'json') return usageError(`-o must be yaml or json, got "${output}"`);
  const file = values['file'] as string | undefined;

  switch (command) {
    case 'render':
      if (!file) return usageError('render needs -f CAPP.yaml');
      return renderCommand({
        file,
        output: output as OutputFormat,
        autoscaleDefaults: values['autoscale-defaults'] as string | undefined,
        dnsConfig: values['dns-config'] as string | undefined,
        traits: values['traits'] as string | undefined,
        knativeConfig: (values['knative-config'] as string[] | undefined) ?? [],
      });
    case 'validate':
      if (!file) return usageError('validate needs -f CAPP.yaml');
      return validateCommand(
        file,
        values['traits'] as string | undefined,
        (values['knative-config'] as string[] | undefined) ?? [],
      );
    case 'crd':
      return crdCommand(output as OutputFormat);
    default:
      return usageError(`unknown command "${command}"`);
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((result) => {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
  });
}
