// A Kubernetes list read as it arrives: each element of its top-level "items" is cut out as its own
// JSON text, so a reader can parse, trim and drop one item at a time. Parsing a whole page at once
// holds every item of it, fields nobody reads included (a page of 500 pods of 20 images is ~16 MB
// of JSON and ~80 MB of heap). Only the structure is scanned here (strings, brackets); the values
// are parsed by JSON.parse, item by item.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const ITEMS_KEY = Buffer.from('items');

export class TruncatedListError extends Error {}

export class ListItemSplitter {
  readonly #onItem: (json: string) => void;
  /** How deep the scan is: 1 is inside the list object itself. */
  #depth = 0;
  #inString = false;
  #escaped = false;
  /**
   * The pieces of a string being read inside the list object itself, and the last such string: when
   * a value begins, the key it belongs to.
   */
  #key: Uint8Array[] | undefined;
  #lastKey = Buffer.alloc(0);
  #inItems = false;
  /** The pieces of the item being read; undefined between items. */
  #item: Uint8Array[] | undefined;
  /** Everything of the list but its items, kept to parse the list's own fields (metadata.continue). */
  readonly #kept: Uint8Array[] = [];

  constructor(onItem: (json: string) => void) {
    this.#onItem = onItem;
  }

  write(chunk: Uint8Array): void {
    // Where, in this chunk, the part of the list that is kept, the current item and the current key begin.
    let keptFrom = 0;
    let itemFrom = 0;
    let keyFrom = 0;
    const length = chunk.length;
    for (let index = 0; index < length; index += 1) {
      const byte = chunk[index];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (byte === BACKSLASH) this.#escaped = true;
        else if (byte === QUOTE) {
          this.#inString = false;
          if (this.#key !== undefined) {
            this.#key.push(chunk.subarray(keyFrom, index));
            this.#lastKey = Buffer.concat(this.#key);
            this.#key = undefined;
          }
        }
      } else if (byte === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1) {
          this.#key = [];
          keyFrom = index + 1;
        }
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (this.#inItems && this.#depth === 2) {
          this.#item = [];
          itemFrom = index;
        }
        this.#depth += 1;
        if (this.#depth === 2 && byte === OPEN_BRACKET && this.#lastKey.equals(ITEMS_KEY)) {
          this.#inItems = true;
          this.#kept.push(chunk.subarray(keptFrom, index + 1));
        }
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.#depth -= 1;
        if (this.#depth < 0) throw new SyntaxError('the list closes more brackets than it opens');
        if (this.#inItems && this.#depth === 2 && this.#item !== undefined) {
          this.#item.push(chunk.subarray(itemFrom, index + 1));
          const pieces = this.#item;
          this.#item = undefined;
          this.#onItem(Buffer.concat(pieces).toString('utf8'));
        } else if (this.#inItems && this.#depth === 1) {
          // The items' list closes: its "]" and what follows are kept, its separators were not.
          this.#inItems = false;
          keptFrom = index;
        }
      }
    }
    if (this.#item !== undefined) this.#item.push(chunk.subarray(itemFrom));
    if (!this.#inItems) this.#kept.push(chunk.subarray(keptFrom));
    if (this.#key !== undefined) this.#key.push(chunk.subarray(keyFrom));
  }

  /** The list with its items left out ("items": []), once the whole response has been written. */
  end(): string {
    if (this.#depth !== 0 || this.#inString) throw new TruncatedListError('the list ended before its JSON did (the response was cut short)');
    return Buffer.concat(this.#kept).toString('utf8');
  }
}

/** Reads a list response from its body stream, handing each item's JSON to `onItem`; returns the rest of the list. */
export async function splitListItems(body: AsyncIterable<Uint8Array>, onItem: (json: string) => void): Promise<string> {
  const splitter = new ListItemSplitter(onItem);
  for await (const chunk of body) splitter.write(chunk);
  return splitter.end();
}
