// One log record is one line, whatever a configuration value or an API message holds: a newline in
// IMAGES must not be able to print a second, forged record.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import winston from 'winston';
import { createLogger, earlyLogger } from '../src/cli/log.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/** Every character some reader (a terminal, a log shipper, a Unicode-aware viewer) takes as a line end. */
const LINE_TERMINATORS = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
const RECORD_START = /^\d{4}-\d\d-\d\dT[\d:.]+Z (ERROR|WARN|INFO|DEBUG) /;

const FORGED = '2030-01-01T00:00:00.000Z INFO pass finished';
const NASTY = ['\n', '\r', '\r\n', '\t', '\u0000', '\u001b[2J', '\v', '\f', '\u007f', '\u0085', '\u2028', '\u2029'];

/** What the logger writes, as text, for the records `write` logs. */
async function capture(log: winston.Logger, write: (log: winston.Logger) => void): Promise<string> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  log.clear().add(new winston.transports.Stream({ stream: sink }));
  write(log);
  await new Promise<void>((resolve) => {
    log.on('finish', () => setImmediate(resolve));
    log.end();
  });
  return chunks.join('');
}

function records(output: string): string[] {
  return output.replace(/\n$/, '').split(LINE_TERMINATORS);
}

describe('text log format', () => {
  it('keeps each record on one line whatever control characters the message holds', async () => {
    const output = await capture(createLogger('debug', 'text'), (log) => {
      for (const char of NASTY) log.error(`invalid IMAGES: image "nginx${char}${FORGED}" contains whitespace`);
    });
    const lines = records(output);
    assert.equal(lines.length, NASTY.length, `expected ${String(NASTY.length)} lines, got:\n${output}`);
    for (const line of lines) assert.match(line, RECORD_START);
  });

  it('keeps each record on one line whatever the fields hold', async () => {
    const output = await capture(createLogger('debug', 'text'), (log) => {
      for (const char of NASTY) log.warn('could not record an Event', { error: `denied${char}${FORGED}` });
    });
    const lines = records(output);
    assert.equal(lines.length, NASTY.length, `expected ${String(NASTY.length)} lines, got:\n${output}`);
    for (const line of lines) assert.match(line, RECORD_START);
  });

  it('shows the escaped characters so a person can still read the value', async () => {
    const output = await capture(createLogger('debug', 'text'), (log) => log.info('a\nb\rc\td\u0000e\u007ff\u2028g'));
    assert.match(output, /INFO a\\nb\\rc\\td\\u0000e\\u007ff\\u2028g\n$/);
  });

  it('leaves ordinary text, quotes and backslashes as they are', async () => {
    const output = await capture(createLogger('debug', 'text'), (log) => log.info('invalid IMAGES="a=nginx\\n": entry "é→ü" has no "="'));
    assert.match(output, /INFO invalid IMAGES="a=nginx\\n": entry "é→ü" has no "="\n$/);
  });
});

describe('the logger used before the configuration is validated', () => {
  it('takes LOG_FORMAT and LOG_LEVEL with surrounding spaces as loadConfig does', async () => {
    const output = await capture(earlyLogger({ LOG_FORMAT: ' text\n', LOG_LEVEL: '\terror ' }), (log) => {
      log.warn('below the level');
      log.error('invalid IMAGES=""');
    });
    assert.match(output, /^\S+ ERROR invalid IMAGES=""\n$/);
  });
});

describe('a configuration value cannot forge a log line', () => {
  it('LOG_FORMAT=text prints one line per record for an IMAGES value holding a newline', () => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: '/nonexistent/kubeconfig', LOG_FORMAT: 'text', IMAGES: `a=nginx\n${FORGED}` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 2, result.stderr);
    const lines = records(result.stdout);
    assert.equal(lines.length, 2, `expected the problem and the summary, got:\n${result.stdout}`);
    for (const line of lines) assert.match(line, RECORD_START);
  });
});
