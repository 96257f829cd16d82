// Container image references, checked against the grammar of the distribution project's
// reference package: [registry[:port]/]path[:tag][@digest].

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const MAX_NAME_LENGTH = 255;

export interface ImageReference {
  name: string;
  tag?: string;
  digest?: string;
}

/** A parsed reference, or a sentence saying what is wrong with it. */
export function parseImageReference(text: string): ImageReference | string {
  if (text === '') return 'is empty';
  if (/\s/.test(text)) return 'contains whitespace';
  const match = REFERENCE.exec(text);
  if (!match) return 'is not a valid image reference ([registry/]repository[:tag][@digest], lower-case repository)';
  const [, domain, path = '', tag, digest] = match;
  const name = domain === undefined ? path : `${domain}/${path}`;
  if (name.length > MAX_NAME_LENGTH) return `has a repository name longer than ${String(MAX_NAME_LENGTH)} characters`;
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** A digest pins the content; anything else (a tag, or none meaning "latest") can move. */
export function isDigestPinned(text: string): boolean {
  const parsed = parseImageReference(text);
  return typeof parsed !== 'string' && parsed.digest !== undefined;
}
