// METRICS_PUSHGATEWAY_URL: the Pushgateway's base URL, or nothing (metrics off).
import { InvalidValue } from './config-parsers.ts';

const EXPECTED = 'expected an http(s) URL of a Pushgateway, such as http://pushgateway.monitoring:9091, without query, fragment or credentials; empty turns metrics off';

/** The base URL without trailing slashes; config.ts wraps it so blank means off. */
export function parsePushgatewayUrl(raw: string): string {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidValue(EXPECTED);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidValue(`${url.protocol} is not http or https; ${EXPECTED}`);
  if (text.includes('?') || text.includes('#')) throw new InvalidValue(`has a query or fragment; ${EXPECTED}`);
  if (url.username !== '' || url.password !== '') throw new InvalidValue(`has credentials, which a ConfigMap should not hold; ${EXPECTED}`);
  return url.href.replace(/\/+$/, '');
}
