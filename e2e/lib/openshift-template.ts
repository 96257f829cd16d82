// Processes OpenShift Templates (template.openshift.io/v1) the way `oc process` does, so the templates in
// openshift/ can be tested without `oc`. Follows openshift/library-go pkg/template/templateprocessing:
//   - `${NAME}` is replaced inside any string (also map keys), several times and with text around it;
//   - `${{NAME}}` must be the whole string; its value is then decoded as JSON (falling back to the
//     string when it is not JSON), so a parameter can supply a number, boolean or object;
//   - references to names that are not parameters are left as they are;
//   - `-p` values override defaults; unknown `-p` names are an error (like `oc process` without
//     --ignore-unknown-parameters); a `generate: expression` parameter without a value is generated;
//     a required parameter that ends up empty is an error;
//   - a hard-coded metadata.namespace is dropped unless it holds a `${…}` reference;
//   - the template's `labels` (themselves substituted) are added to every object's metadata.labels.
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { load } from 'js-yaml';

export interface TemplateParameter {
  name: string;
  displayName?: string;
  description?: string;
  value?: string;
  required?: boolean;
  generate?: string;
  from?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Template {
  apiVersion: string;
  kind: 'Template';
  metadata: { name: string; [key: string]: unknown };
  objects: KubeObject[];
  parameters?: TemplateParameter[];
  labels?: Record<string, string>;
  message?: string;
}

export interface ProcessOptions {
  /** `oc process --ignore-unknown-parameters`. */
  ignoreUnknownParameters?: boolean;
  /** Random integer in [0, n); injectable so generated values are predictable in tests. */
  random?: (n: number) => number;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const STRING_REF = /\$\{([a-zA-Z0-9_]+?)\}/g;
const WHOLE_VALUE_REF = /^\$\{\{([a-zA-Z0-9_]+)\}\}$/;

export function loadTemplate(path: string): Template {
  const doc = load(readFileSync(path, 'utf8')) as Partial<Template> | null;
  if (!doc || doc.kind !== 'Template' || !Array.isArray(doc.objects)) {
    throw new TemplateError(`${path}: not an OpenShift Template (kind: Template with objects)`);
  }
  return doc as Template;
}

/** The parameter values `oc process` would use: defaults, then overrides, then generated values. */
export function resolveParameters(
  template: Template,
  overrides: Record<string, string> = {},
  opts: ProcessOptions = {},
): Map<string, string> {
  const params = template.parameters ?? [];
  const known = new Set(params.map((p) => p.name));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length && !opts.ignoreUnknownParameters) {
    throw new TemplateError(`unknown parameter name${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`);
  }

  const values = new Map<string, string>();
  const errors: string[] = [];
  params.forEach((param, i) => {
    let value = Object.hasOwn(overrides, param.name) ? overrides[param.name]! : (param.value ?? '');
    if (value === '' && param.generate) {
      if (param.generate !== 'expression') {
        errors.push(`template.parameters[${i}]: Unknown generator name '${param.generate}' for parameter ${param.name}`);
        return;
      }
      value = generateFromExpression(param.from ?? '', opts.random ?? randomInt);
    }
    if (value === '' && param.required) {
      errors.push(`template.parameters[${i}]: parameter ${param.name} is required and must be specified`);
    }
    values.set(param.name, value);
  });
  if (errors.length) throw new TemplateError(errors.join('; '));
  return values;
}

/** `oc process -f template.yaml -p K=V …` → the list of objects it would print. */
export function processTemplate(
  template: Template,
  overrides: Record<string, string> = {},
  opts: ProcessOptions = {},
): KubeObject[] {
  const values = resolveParameters(template, overrides, opts);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.labels ?? {})) {
    labels[substituteString(k, values).value as string] = substituteString(v, values).value as string;
  }
  return template.objects.map((original) => {
    const obj = structuredClone(original);
    const ns = obj.metadata?.namespace;
    if (typeof ns === 'string' && ns !== '' && !new RegExp(STRING_REF.source).test(ns)) delete obj.metadata.namespace;
    const processed = substitute(obj, values) as KubeObject;
    if (Object.keys(labels).length) {
      processed.metadata ??= {};
      processed.metadata.labels = { ...(processed.metadata.labels ?? {}), ...labels };
    }
    return processed;
  });
}

function substitute(node: unknown, values: Map<string, string>): unknown {
  if (typeof node === 'string') return substituteString(node, values).value;
  if (Array.isArray(node)) return node.map((item) => substitute(item, values));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      out[String(substituteString(key, values).value)] = substitute(value, values);
    }
    return out;
  }
  return node;
}

function substituteString(input: string, values: Map<string, string>): { value: unknown } {
  const whole = WHOLE_VALUE_REF.exec(input);
  if (whole && values.has(whole[1]!)) {
    const raw = values.get(whole[1]!)!;
    try {
      return { value: JSON.parse(raw) as unknown };
    } catch {
      return { value: raw };
    }
  }
  return { value: input.replace(STRING_REF, (ref, name: string) => values.get(name) ?? ref) };
}

/**
 * The subset of library-go's expression generator the templates use: literal characters, character
 * classes with ranges (`[a-z0-9]`), `\d` `\w` `\a`, each optionally repeated `{n}` times.
 */
export function generateFromExpression(from: string, random: (n: number) => number): string {
  const classes: Record<string, string> = {
    d: '0123456789',
    w: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_',
    a: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  };
  let out = '';
  let i = 0;
  while (i < from.length) {
    let alphabet: string;
    const c = from[i]!;
    if (c === '[') {
      const end = from.indexOf(']', i + 1);
      if (end < 0) throw new TemplateError(`malformed expression "${from}": unclosed [`);
      alphabet = expandClass(from.slice(i + 1, end));
      i = end + 1;
    } else if (c === '\\' && i + 1 < from.length) {
      const escaped = from[i + 1]!;
      alphabet = classes[escaped] ?? escaped;
      i += 2;
    } else {
      alphabet = c;
      i += 1;
    }
    let count = 1;
    const quantifier = /^\{(\d+)\}/.exec(from.slice(i));
    if (quantifier) {
      count = Number(quantifier[1]);
      i += quantifier[0].length;
    }
    for (let n = 0; n < count; n++) out += alphabet[alphabet.length === 1 ? 0 : random(alphabet.length)]!;
  }
  return out;
}

function expandClass(body: string): string {
  let chars = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const start = body.charCodeAt(i);
      const end = body.charCodeAt(i + 2);
      if (end < start) throw new TemplateError(`malformed range "${body.slice(i, i + 3)}"`);
      for (let code = start; code <= end; code++) chars += String.fromCharCode(code);
      i += 2;
    } else {
      chars += body[i]!;
    }
  }
  if (!chars) throw new TemplateError('empty character class');
  return chars;
}
