import * as path from 'node:path';

/**
 * `blobName` with tokens replaced per upload, so that each build gets its own, immutable blob:
 * `{name}-{sha256:12}{ext}` names the blob by its content. A name without tokens is a template
 * of one text part and names the blob as written (1.0's behaviour).
 */
type BlobNamePart = { kind: 'text'; text: string } | { kind: 'name' } | { kind: 'ext' } | { kind: 'sha256'; digits: number };

export interface BlobNameTemplate {
  /** As written in the input. */
  readonly source: string;
  readonly parts: readonly BlobNamePart[];
  /** True when a part is the file's SHA-256: the file is hashed before the blob is named. */
  readonly needsSha256: boolean;
}

/** Shortest and longest `{sha256:N}`: 8 hex digits still tell builds apart; 64 is the whole hash. */
const MIN_SHA256_DIGITS = 8;
const MAX_SHA256_DIGITS = 64;

/** The accepted forms, quoted by every problem the parser reports. */
const BLOB_NAME_TOKENS =
  "the tokens {name} (the file's name without its last extension), {ext} (that extension with its dot, e.g. .jar; empty when none), " +
  `{sha256} (the file's SHA-256, 64 hex digits) and {sha256:N} (its first N hex digits, N from ${MIN_SHA256_DIGITS} to ${MAX_SHA256_DIGITS}); ` +
  "no other '{' or '}', e.g. {name}-{sha256:12}{ext}";

/**
 * Parses `blobName`'s tokens. Strict: an unknown token, an N out of range, and a `{` or `}`
 * that is no token's are problems (a typo such as `{sha256:12` must not name a blob literally).
 *
 * @returns the template, or the problem in words that quote the offending part.
 */
export function parseBlobNameTemplate(value: string): { template: BlobNameTemplate } | { problem: string } {
  const parts: BlobNamePart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === '}') return { problem: `has a '}' without its '{' at position ${i + 1}; accepted are ${BLOB_NAME_TOKENS}` };
    if (c !== '{') {
      text += c;
      i++;
      continue;
    }
    const end = value.indexOf('}', i + 1);
    const nextOpen = value.indexOf('{', i + 1);
    if (end < 0 || (nextOpen >= 0 && nextOpen < end)) {
      return { problem: `has a '{' without its '}' at position ${i + 1}; accepted are ${BLOB_NAME_TOKENS}` };
    }
    const token = value.slice(i, end + 1);
    const part = tokenPart(token.slice(1, -1));
    if (typeof part === 'string') return { problem: `${part} in '${token}'; accepted are ${BLOB_NAME_TOKENS}` };
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push(part);
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return { template: { source: value, parts, needsSha256: parts.some((p) => p.kind === 'sha256') } };
}

/** The part a token's inside (between the braces) stands for, or why it stands for none. */
function tokenPart(inside: string): BlobNamePart | string {
  if (inside === 'name') return { kind: 'name' };
  if (inside === 'ext') return { kind: 'ext' };
  if (inside === 'sha256') return { kind: 'sha256', digits: MAX_SHA256_DIGITS };
  const digits = /^sha256:(\d+)$/.exec(inside);
  if (!digits) return 'an unknown token';
  const n = Number(digits[1]);
  if (!/^[1-9]\d*$/.test(digits[1]) || n < MIN_SHA256_DIGITS || n > MAX_SHA256_DIGITS) {
    return `N must be a whole number from ${MIN_SHA256_DIGITS} to ${MAX_SHA256_DIGITS}`;
  }
  return { kind: 'sha256', digits: n };
}

/** What the tokens are replaced with. */
interface BlobNameValues {
  /** The artifact's file name (no folders), e.g. `top-speed-windowing.jar`. */
  fileName: string;
  /** Lowercase hex; required when the template has a `{sha256}` token. */
  sha256Hex?: string;
}

/**
 * The blob name for one file: each token replaced, the text kept as written.
 *
 * @throws Error when the template needs the SHA-256 and `values` has none (a bug in the caller).
 */
export function expandBlobName(template: BlobNameTemplate, values: BlobNameValues): string {
  const ext = path.posix.extname(values.fileName);
  return template.parts
    .map((part) => {
      switch (part.kind) {
        case 'text':
          return part.text;
        case 'name':
          return values.fileName.slice(0, values.fileName.length - ext.length);
        case 'ext':
          return ext;
        case 'sha256':
          if (!values.sha256Hex) throw new Error(`the blob name '${template.source}' needs the file's SHA-256 before the upload`);
          return values.sha256Hex.toLowerCase().slice(0, part.digits);
        default: {
          const unreachable: never = part;
          return String(unreachable);
        }
      }
    })
    .join('');
}

/**
 * The template with stand-in values for the tokens (a one-letter name, `.jar`, a hash of the
 * right length), so the checks of the blob name's shape run before any file is found.
 */
export function sampleBlobName(template: BlobNameTemplate): string {
  return expandBlobName(template, { fileName: 'a.jar', sha256Hex: '0'.repeat(MAX_SHA256_DIGITS) });
}
