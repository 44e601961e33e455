/**
 * A `.sql` file as the task reads it: UTF-8, a byte order mark removed, line endings kept. The
 * text without the BOM is what is sent to VVP (and hashed), and what positions refer to: editors
 * and Azure DevOps do not count a BOM as a column, so line 1, column 1 is the first character
 * after it.
 */
import type { SourceProblem } from './problem';
import { LineIndex } from './positions';

/** The decoded script, or why the file is not a UTF-8 text. */
interface DecodedScript {
  /** The text without a leading BOM; line endings as in the file. */
  script: string;
  /** True when the file started with a UTF-8 BOM (EF BB BF), which is not part of `script`. */
  hadBom: boolean;
  /** Set when the file is not valid UTF-8 (its position is the first broken character). */
  problem?: SourceProblem;
}

/** Decodes a file's bytes as {@link DecodedScript} describes. Never throws. */
export function decodeSqlFile(bytes: Uint8Array): DecodedScript {
  const hadBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hadBom ? bytes.subarray(3) : bytes;
  try {
    return { script: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), hadBom };
  } catch {
    const lossy = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body);
    const at = lossy.indexOf('\uFFFD');
    return {
      script: lossy,
      hadBom,
      problem: { message: 'The SQL file is not valid UTF-8 text: save it as UTF-8', position: new LineIndex(lossy).positionOf(Math.max(0, at)) },
    };
  }
}
