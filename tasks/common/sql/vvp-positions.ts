/**
 * VVP's `errorDetails` positions (1-based lines and columns of the text SENT) mapped back to the
 * file. The text sent is the whole script, or, when validating statement by statement, a chunk
 * made of statements of the script joined together: each piece remembers where it came from.
 * VVP reports some errors with all numbers 0 ("Table … already exists."): that is "no position".
 */
import { LineIndex, type Position } from './positions';
import type { SqlStatement } from './statements';

/** A piece of the sent text that is a verbatim copy of the script at `scriptStart`. */
interface ChunkPiece {
  scriptStart: number;
  chunkStart: number;
  length: number;
}

/** Text sent to VVP and where each part of it is in the script. */
interface SentChunk {
  text: string;
  pieces: ChunkPiece[];
}

/** The part of VVP's `errorDetails` that locates the error (absent or null fields are unknown). */
interface VvpErrorLocation {
  lineNumber?: number | null;
  columnNumber?: number | null;
  endLineNumber?: number | null;
  endColumnNumber?: number | null;
}

/** The sent text `script.slice(start, end)` (the whole script by default). */
export function scriptChunk(script: string, start = 0, end = script.length): SentChunk {
  return { text: script.slice(start, end), pieces: [{ scriptStart: start, chunkStart: 0, length: end - start }] };
}

/**
 * Statements of the script sent together (e.g. the temporary tables an INSERT needs, then the
 * INSERT), each verbatim, joined by `separator` (default a line break).
 */
export function statementsChunk(script: string, statements: readonly SqlStatement[], separator = '\n'): SentChunk {
  const pieces: ChunkPiece[] = [];
  let text = '';
  for (const statement of statements) {
    if (text !== '') text += separator;
    pieces.push({ scriptStart: statement.start, chunkStart: text.length, length: statement.end - statement.start });
    text += script.slice(statement.start, statement.end);
  }
  return { text, pieces };
}

/**
 * The file positions of VVP's error location in `chunk`. `position` is undefined when VVP gave
 * none (0, negative, absent) or one outside the sent text; `endPosition` likewise.
 */
export function mapVvpLocation(location: VvpErrorLocation, chunk: SentChunk, script: LineIndex): { position?: Position; endPosition?: Position } {
  const sent = new LineIndex(chunk.text);
  const position = mapOne(location.lineNumber, location.columnNumber, sent, chunk, script);
  // An end without a start is no help to anyone.
  const endPosition = position ? mapOne(location.endLineNumber, location.endColumnNumber, sent, chunk, script) : undefined;
  return { ...(position ? { position } : {}), ...(endPosition ? { endPosition } : {}) };
}

function mapOne(line: number | null | undefined, column: number | null | undefined, sent: LineIndex, chunk: SentChunk, script: LineIndex): Position | undefined {
  if (typeof line !== 'number' || typeof column !== 'number') return undefined;
  const offset = sent.offsetOf({ line, column });
  if (offset === undefined) return undefined;
  // The piece holding the offset; in a separator between pieces, the end of the piece before it.
  let piece = chunk.pieces[0];
  for (const candidate of chunk.pieces) {
    if (candidate.chunkStart <= offset) piece = candidate;
  }
  if (!piece) return undefined;
  const within = Math.min(offset - piece.chunkStart, piece.length);
  return script.positionOf(piece.scriptStart + Math.max(0, within));
}
