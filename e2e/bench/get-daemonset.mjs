// The floor for a no-op pass: a node process that makes the one request a no-op pass needs (GET the
// DaemonSet) with node:https and the kubeconfig's client certificate, and nothing else. Plain
// JavaScript on purpose, so that, like the bundle, it pays no type-stripping cost at startup.
//   usage: KUBECONFIG=… node get-daemonset.mjs NAMESPACE NAME      prints the HTTP status code
// Reads only the current context of a kubeconfig with embedded (…-data) credentials, as kwokctl writes.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import process from 'node:process';
import { URL } from 'node:url';

const [namespace, name] = process.argv.slice(2);
const text = readFileSync(process.env.KUBECONFIG ?? '', 'utf8');
const field = (key) => {
  const match = new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, 'm').exec(text);
  if (match === null) throw new Error(`${key} not found in ${process.env.KUBECONFIG ?? ''}`);
  return match[1];
};
const decode = (key) => Buffer.from(field(key), 'base64');

const url = new URL(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`, field('server'));
const req = request(
  url,
  {
    ca: decode('certificate-authority-data'),
    cert: decode('client-certificate-data'),
    key: decode('client-key-data'),
    headers: { 'User-Agent': 'kip-bench-floor/1', Accept: 'application/json' },
  },
  (res) => {
    res.resume();
    res.on('end', () => process.stdout.write(`${res.statusCode}\n`));
  },
);
req.on('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
req.end();
