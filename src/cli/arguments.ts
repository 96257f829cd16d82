// The command line's flags: pure parsing, no I/O.

export type Mode = 'pass' | 'dry-run' | 'server-dry-run' | 'help' | 'version';

/** `status`: which install to read (defaults from NAMESPACE and DAEMONSET_NAME) and how to print it. */
export interface StatusRequest {
  status: { namespace: string | undefined; name: string | undefined; output: 'table' | 'json' };
}

export const USAGE = `Usage: kubernetes-image-puller [--dry-run[=client|server]] [--help] [--version]
       kubernetes-image-puller status [-n NAMESPACE] [--name DAEMONSET_NAME] [-o table|json]

Runs one reconcile pass: makes sure the image-caching DaemonSet exists, matches the configuration
(environment variables, see README) and is healthy, then exits.

  --dry-run          print the desired DaemonSet as YAML and exit; touches no cluster
  --dry-run=server   ask the API server whether it would accept the desired DaemonSet (strict
                     field validation, admission) and print it as the server would store it;
                     writes nothing
  --help             show this text
  --version          print the version

  status             which node holds which image at which digest, read from the cluster
                     ($KUBECONFIG); writes nothing. -n and --name default to NAMESPACE and
                     DAEMONSET_NAME (or their defaults); -o json prints it for scripts

Exit codes: 0 healthy, 1 unexpected or API error, 2 invalid configuration,
            3 not healthy by the deadline, 4 refused (DaemonSet not managed by this program)`;

function parseStatus(args: string[]): StatusRequest | { unknown: string } {
  const request: StatusRequest['status'] = { namespace: undefined, name: undefined, output: 'table' };
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? args[(index += 1)];
    if (flag === '-n' || flag === '--namespace') request.namespace = value();
    else if (flag === '--name') request.name = value();
    else if (flag === '-o' || flag === '--output') {
      const output = value();
      if (output !== 'table' && output !== 'json') return { unknown: `${flag} ${output ?? ''}`.trimEnd() };
      request.output = output;
    } else return { unknown: arg };
    if (request.namespace === '' || request.name === '') return { unknown: `${flag} ""` };
    if ((flag === '-n' || flag === '--namespace') && request.namespace === undefined) return { unknown: `${flag} (it needs a value)` };
    if (flag === '--name' && request.name === undefined) return { unknown: `${flag} (it needs a value)` };
  }
  return { status: request };
}

export function parseArguments(args: string[]): Mode | StatusRequest | { unknown: string } {
  if (args[0] === 'status') return parseStatus(args.slice(1));
  let mode: Mode = 'pass';
  for (const arg of args) {
    if (arg === '--dry-run' || arg === '--dry-run=client') mode = 'dry-run';
    else if (arg === '--dry-run=server') mode = 'server-dry-run';
    else if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--version') return 'version';
    else return { unknown: arg };
  }
  return mode;
}
