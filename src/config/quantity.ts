// Kubernetes resource quantities ("10Mi", ".05", "200m", "1e3"), parsed to a number so that
// requests can be checked against limits and live values compared with desired ones
// ("0.05" and "50m" are the same CPU).

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const SUFFIX_MULTIPLIER: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The quantity's value in base units (bytes, cores), or undefined when it is not a non-negative quantity. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, mantissa = '', exponent, suffix] = match;
  const base = Number(mantissa);
  if (exponent !== undefined) return base * 10 ** Number(exponent);
  if (suffix !== undefined) return base * (SUFFIX_MULTIPLIER[suffix] ?? 1);
  return base;
}

export function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return a === b;
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
}
