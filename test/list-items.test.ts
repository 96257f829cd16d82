import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ListItemSplitter, TruncatedListError, splitListItems } from '../src/kube/list-items.ts';

const REAL_POD: unknown = JSON.parse(readFileSync(new URL('fixtures/kwok-pod-20-images.json', import.meta.url), 'utf8'));

/** Splits `text` fed in chunks of `size` bytes; returns the items parsed and the rest of the list. */
function split(text: string, size: number): { items: unknown[]; rest: unknown } {
  const items: unknown[] = [];
  const splitter = new ListItemSplitter((json) => items.push(JSON.parse(json)));
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) splitter.write(bytes.subarray(at, at + size));
  return { items, rest: JSON.parse(splitter.end()) };
}

function assertSplitsLikeParse(text: string): void {
  const whole = JSON.parse(text) as { items: unknown[] };
  const expected = { items: whole.items, rest: { ...whole, items: [] } };
  for (const size of [1, 2, 3, 5, 7, 64, Buffer.byteLength(text)]) {
    assert.deepEqual(split(text, size), expected, `chunks of ${String(size)} bytes`);
  }
}

describe('ListItemSplitter', () => {
  it('gives each item and the list without them, as JSON.parse would, wherever the chunks are cut', () => {
    assertSplitsLikeParse(JSON.stringify({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '42', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' },
      items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'x' }] } }],
    }));
  });

  it('reads strings with quotes, backslashes, brackets and multi-byte characters in them as strings', () => {
    assertSplitsLikeParse(JSON.stringify({
      metadata: { note: 'a "}" and a \\ and ]' },
      items: [{ message: 'ends in a backslash \\', other: '"{[' }, { message: 'héllo ✓ 🐳 \u0000 \n' }, { '"items"': ['}'] }],
    }));
  });

  it('takes only the list\'s own "items", not a field of that name deeper in the list or in an item', () => {
    const text = JSON.stringify({ metadata: { items: [{ no: 1 }] }, items: [{ spec: { items: [{ key: 'k', path: 'p' }] } }], after: { items: [2] } });
    assertSplitsLikeParse(text);
    assert.deepEqual(split(text, 4).items, [{ spec: { items: [{ key: 'k', path: 'p' }] } }]);
  });

  it('keeps blanks and a list with no items as they are', () => {
    assertSplitsLikeParse('{ "kind" : "PodList" ,\n "items" : [ \n ] , "metadata" : { } }');
    assertSplitsLikeParse('{\n  "items": [\n    {"a": 1},\n    {"b": [1, 2, {"c": null}]}\n  ],\n  "metadata": {"continue": ""}\n}\n');
    assert.deepEqual(split('{"kind":"PodList","items":null}', 3), { items: [], rest: { kind: 'PodList', items: null } });
  });

  it('splits a real page of pods as JSON.parse does', () => {
    const items = Array.from({ length: 3 }, (_, index) => ({ ...(REAL_POD as object), index }));
    assertSplitsLikeParse(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items }, null, 2));
  });

  it('refuses a response cut short, even between items', () => {
    const text = JSON.stringify({ metadata: {}, items: [{ a: '1' }, { b: '2' }] });
    for (const cut of [text.indexOf('},') + 2, text.indexOf('"2') + 1, text.length - 1]) {
      const splitter = new ListItemSplitter(() => undefined);
      splitter.write(Buffer.from(text.slice(0, cut)));
      assert.throws(() => splitter.end(), TruncatedListError, `cut at ${String(cut)}`);
    }
  });

  it('refuses more closing brackets than opening ones', () => {
    assert.throws(() => new ListItemSplitter(() => undefined).write(Buffer.from('{"items":[]}}')), SyntaxError);
  });

  it('hands over each item as soon as its last byte has arrived', async () => {
    const seen: string[] = [];
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('{"items":[{"n":1},{"n"');
      await new Promise(setImmediate);
      assert.deepEqual(seen, ['{"n":1}']);
      yield Buffer.from(':2}],"metadata":{}}');
    }
    assert.deepEqual(JSON.parse(await splitListItems(body(), (json) => seen.push(json))), { items: [], metadata: {} });
    assert.deepEqual(seen, ['{"n":1}', '{"n":2}']);
  });
});
