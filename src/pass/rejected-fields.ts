// Maps a field path the API server rejected back to the variable that produced it, so an invalid
// value only the server can judge (an unknown nested field, tolerationSeconds on a NoSchedule
// taint, empty nodeSelectorTerms) is reported like any other invalid configuration.
import { INSTALL_CONTAINER, HOLD_CONTAINER } from '../plan/desired.ts';

const POD = 'spec.template.spec';

const FIELD_VARIABLES: [RegExp, (match: RegExpMatchArray) => string][] = [
  [new RegExp(`^${POD}\\.affinity\\b`), () => 'AFFINITY'],
  [new RegExp(`^${POD}\\.tolerations\\b`), () => 'TOLERATIONS'],
  [new RegExp(`^${POD}\\.nodeSelector\\b`), () => 'NODE_SELECTOR'],
  [new RegExp(`^${POD}\\.imagePullSecrets\\b`), () => 'IMAGE_PULL_SECRETS'],
  [new RegExp(`^${POD}\\.priorityClassName\\b`), () => 'PRIORITY_CLASS_NAME'],
  [new RegExp(`^${POD}\\.securityContext\\.runAs`), () => 'CACHING_RUN_AS_USER'],
  [new RegExp(`^${POD}\\.(?:initContainers|containers)\\[[^\\]]*\\]\\.resources\\.(requests|limits)(?:\\[|\\.)(cpu|memory)`),
    (match) => `CACHING_${(match[2] ?? '').toUpperCase()}_${match[1] === 'requests' ? 'REQUEST' : 'LIMIT'}`],
  [new RegExp(`^${POD}\\.(?:initContainers|containers)\\[([^\\]]*)\\]\\.image\\b`),
    (match) => (match[1] === INSTALL_CONTAINER || match[1] === HOLD_CONTAINER ? 'KIP_IMAGE' : 'IMAGES')],
  [/^spec\.updateStrategy\b/, () => 'MAX_UNAVAILABLE'],
  [/^metadata\.annotations\b/, () => 'DAEMONSET_ANNOTATIONS'],
  [/^metadata\.name\b/, () => 'DAEMONSET_NAME'],
];

/** The variable behind a rejected field path, or undefined when no single variable explains it. */
export function variableForField(field: string): string | undefined {
  const path = field.replace(/^\./, '');
  for (const [pattern, variable] of FIELD_VARIABLES) {
    const match = pattern.exec(path);
    if (match) return variable(match);
  }
  return undefined;
}

/** Distinct variables behind the rejected fields, in the order the server named them. */
export function variablesForFields(fields: string[]): string[] {
  return [...new Set(fields.flatMap((field) => variableForField(field) ?? []))];
}
