// WWW-Authenticate, as a registry sends it with a 401: which scheme it wants and, for Bearer, where
// to get a token (realm) and for what (service, scope). The grammar is RFC 9110's: a header may
// hold several challenges, parameter values may be quoted, and quoted values may hold commas.

export interface Challenge {
  /** Lower-case: schemes are case-insensitive ("Bearer", "bearer"). */
  scheme: string;
  /** Parameter names lower-cased, values unquoted; the first of a repeated name wins. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const SPACE = /[ \t]/;

class Cursor {
  readonly text: string;
  at = 0;

  constructor(text: string) {
    this.text = text;
  }

  get done(): boolean {
    return this.at >= this.text.length;
  }

  peek(): string {
    return this.text[this.at] ?? '';
  }

  skipSpaces(): void {
    while (SPACE.test(this.peek())) this.at += 1;
  }

  skipSpacesAndCommas(): void {
    while (SPACE.test(this.peek()) || this.peek() === ',') this.at += 1;
  }

  token(): string {
    const start = this.at;
    while (!this.done && TOKEN_CHAR.test(this.peek())) this.at += 1;
    return this.text.slice(start, this.at);
  }

  quoted(): string {
    this.at += 1;
    let value = '';
    while (!this.done && this.peek() !== '"') {
      if (this.peek() === '\\') this.at += 1;
      value += this.peek();
      this.at += 1;
    }
    this.at += 1;
    return value;
  }

  /** Some registries leave a URL unquoted (realm=https://…): read up to the next comma or space. */
  bareValue(): string {
    const start = this.at;
    while (!this.done && this.peek() !== ',' && !SPACE.test(this.peek())) this.at += 1;
    return this.text.slice(start, this.at);
  }
}

const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*[ \t]*(?=,|$)/y;

/** A token68 (`Negotiate abc==`) stands alone after its scheme; read it so it is not taken for a parameter. */
function skipToken68(cursor: Cursor): void {
  TOKEN68.lastIndex = cursor.at;
  if (TOKEN68.test(cursor.text)) cursor.at = TOKEN68.lastIndex;
}

function readParams(cursor: Cursor, params: Record<string, string>): void {
  for (;;) {
    const start = cursor.at;
    const name = cursor.token();
    if (name === '') return;
    cursor.skipSpaces();
    if (cursor.peek() !== '=') {
      // A token without "=" after a comma is the next challenge's scheme.
      cursor.at = start;
      return;
    }
    cursor.at += 1;
    cursor.skipSpaces();
    const value = cursor.peek() === '"' ? cursor.quoted() : cursor.bareValue();
    const key = name.toLowerCase();
    if (!(key in params)) params[key] = value;
    cursor.skipSpaces();
    if (cursor.peek() !== ',') return;
    cursor.skipSpacesAndCommas();
  }
}

/** Every challenge in the header, in order; an empty list when there is none or it cannot be read. */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const challenges: Challenge[] = [];
  const cursor = new Cursor(header ?? '');
  cursor.skipSpacesAndCommas();
  while (!cursor.done) {
    const scheme = cursor.token();
    if (scheme === '') break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    cursor.skipSpaces();
    skipToken68(cursor);
    readParams(cursor, challenge.params);
    cursor.skipSpacesAndCommas();
  }
  return challenges;
}

/** The first challenge of the given scheme (lower-case), if the header has one. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  return challenges.find((challenge) => challenge.scheme === scheme);
}
