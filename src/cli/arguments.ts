// The command line's flags: pure parsing, no I/O.

export type Mode = 'pass' | 'dry-run' | 'server-dry-run' | 'help' | 'version';

export const USAGE = `Usage: kubernetes-image-puller [--dry-run[=client|server]] [--help] [--version]

Runs one reconcile pass: makes sure the image-caching DaemonSet exists, matches the configuration
(environment variables, see README) and is healthy, then exits.

  --dry-run          print the desired DaemonSet as YAML and exit; touches no cluster
  --dry-run=server   ask the API server whether it would accept the desired DaemonSet (strict
                     field validation, admission) and print it as the server would store it;
                     writes nothing
  --help             show this text
  --version          print the version

Exit codes: 0 healthy, 1 unexpected or API error, 2 invalid configuration,
            3 not healthy by the deadline, 4 refused (DaemonSet not managed by this program)`;

export function parseArguments(args: string[]): Mode | { unknown: string } {
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
