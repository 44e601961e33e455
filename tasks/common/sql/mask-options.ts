/**
 * Masks credentials in a SQL script for display (plans, diffs, logs, summaries): the value of
 * every `'key' = 'value'` option whose key is sensitive by the rule for Flink configuration keys
 * (`isSensitiveConfigKey`), inside `WITH ( … )`, in `SET 'key' = 'value'` and in the dynamic table
 * options of a hint (`/*+ OPTIONS('key' = 'value') *\/`). The key still shows;
 * the value becomes `'***'` (each piece of a value continued over several lines). Only the
 * displayed text changes: the script sent to VVP is never masked.
 */
import { MASK } from '../vvp/jar-uri-secrets';
import { isSensitiveConfigKey } from '../vvp/sensitive-keys';
import { isTrivia, tokenize, unquote, type Token } from './lexer';

/** The masked form of a value (or of each piece of one continued over several lines). */
const MASKED_VALUE = `'${MASK}'`;

/** `script` with the values of sensitive options replaced by `'***'`; everything else unchanged, offsets of other text shift. */
export function maskSensitiveOptions(script: string): string {
  const all = tokenize(script);
  const tokens = all.filter((t) => !isTrivia(t));
  const masked: { start: number; end: number; text: string }[] = [];
  // A hint's dynamic table options (`/*+ OPTIONS( … ) *\/`) are options like WITH's, inside a comment.
  for (const hint of all.filter((t) => t.kind === 'blockComment' && t.closed && script.startsWith('/*+', t.start))) {
    const inner = script.slice(hint.start + 3, hint.end - 2);
    const shown = maskSensitiveOptions(inner);
    if (shown !== inner) masked.push({ start: hint.start, end: hint.end, text: `/*+${shown}*/` });
  }
  const word = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && script.slice(t.start, t.end).toUpperCase() === w;
  const symbol = (t: Token | undefined, s: string): boolean => t?.kind === 'symbol' && script[t.start] === s;
  // Depth of parentheses inside the current WITH ( … ); 0 when outside one.
  let withDepth = 0;
  let statementStart = true;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const atOption = withDepth === 1 || (statementStart && word(t, 'SET'));
    if ((word(t, 'WITH') || word(t, 'OPTIONS')) && symbol(tokens[i + 1], '(') && withDepth === 0) {
      withDepth = 1;
      i++;
      statementStart = false;
      continue;
    }
    if (withDepth > 0) {
      if (symbol(t, '(')) withDepth++;
      else if (symbol(t, ')')) withDepth--;
    }
    if (atOption) {
      // `'key' = 'value'` (or, after SET, `SET 'key' = 'value'`).
      const keyAt = word(t, 'SET') ? i + 1 : i;
      const key = tokens[keyAt];
      const value = tokens[keyAt + 2];
      if (key?.kind === 'string' && symbol(tokens[keyAt + 1], '=') && value?.kind === 'string' && isSensitiveConfigKey(unquote(script, key))) {
        // Flink joins string literals separated by a line break ('abc'\n'def' is 'abcdef'): a
        // value continued over several lines is masked in every piece.
        i = keyAt + 2;
        masked.push({ start: value.start, end: value.end, text: MASKED_VALUE });
        while (tokens[i + 1]?.kind === 'string') {
          const piece = tokens[++i];
          masked.push({ start: piece.start, end: piece.end, text: MASKED_VALUE });
        }
      }
    }
    statementStart = symbol(t, ';');
  }
  let out = '';
  let from = 0;
  for (const replacement of masked.sort((a, b) => a.start - b.start)) {
    out += script.slice(from, replacement.start) + replacement.text;
    from = replacement.end;
  }
  return out + script.slice(from);
}
