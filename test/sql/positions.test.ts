import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineIndex } from '../../tasks/common/sql/positions';
import { decodeSqlFile } from '../../tasks/common/sql/script-file';
import { splitStatements } from '../../tasks/common/sql/statements';
import { mapVvpLocation, scriptChunk, statementsChunk } from '../../tasks/common/sql/vvp-positions';

const SCRIPT = [
  '-- orders pipeline', //                                        line 1
  "CREATE TEMPORARY TABLE src (a INT) WITH ('connector' = 'datagen');", // 2
  '', //                                                          line 3
  "CREATE TEMPORARY TABLE snk (a INT) WITH ('connector' = 'print');", // 4
  'INSERT INTO snk', //                                           line 5
  '  SELECT a FROM src;', //                                      line 6
].join('\r\n');

describe('LineIndex', () => {
  it('converts offsets to 1-based lines and columns and back, for LF, CRLF and lone CR', () => {
    const text = 'ab\ncd\r\nef\rg';
    const index = new LineIndex(text);
    assert.equal(index.lineCount, 4);
    for (const [offset, line, column] of [[0, 1, 1], [3, 2, 1], [4, 2, 2], [7, 3, 1], [10, 4, 1]] as const) {
      assert.deepEqual(index.positionOf(offset), { line, column });
      assert.equal(index.offsetOf({ line, column }), offset);
    }
  });

  it('has no offset for line 0, column 0 or a line past the end', () => {
    const index = new LineIndex('a\nb');
    assert.equal(index.offsetOf({ line: 0, column: 0 }), undefined);
    assert.equal(index.offsetOf({ line: 1, column: 0 }), undefined);
    assert.equal(index.offsetOf({ line: 3, column: 1 }), undefined);
  });
});

describe('mapVvpLocation', () => {
  const index = new LineIndex(SCRIPT);

  it('maps a position in the whole script to the same line and column', () => {
    const mapped = mapVvpLocation({ lineNumber: 6, columnNumber: 17, endLineNumber: 6, endColumnNumber: 19 }, scriptChunk(SCRIPT), index);
    assert.deepEqual(mapped, { position: { line: 6, column: 17 }, endPosition: { line: 6, column: 19 } });
  });

  it('maps a position in a chunk that starts inside the file to the file line and column', () => {
    const insert = splitStatements(SCRIPT).statements[2];
    const chunk = scriptChunk(SCRIPT, insert.start, insert.end);
    // `src` on the chunk's line 2, column 17.
    assert.deepEqual(mapVvpLocation({ lineNumber: 2, columnNumber: 17 }, chunk, index), { position: { line: 6, column: 17 } });
  });

  it('maps positions in statements sent together back to each statement in the file', () => {
    const [source, , insert] = splitStatements(SCRIPT).statements;
    const chunk = statementsChunk(SCRIPT, [source, insert]);
    assert.equal(chunk.text.split('\n')[1], 'INSERT INTO snk\r');
    assert.deepEqual(mapVvpLocation({ lineNumber: 1, columnNumber: 24 }, chunk, index).position, { line: 2, column: 24 });
    assert.deepEqual(mapVvpLocation({ lineNumber: 2, columnNumber: 13 }, chunk, index).position, { line: 5, column: 13 });
    assert.deepEqual(mapVvpLocation({ lineNumber: 3, columnNumber: 3 }, chunk, index).position, { line: 6, column: 3 });
  });

  const none: { what: string; location: Record<string, number | null | undefined> }[] = [
    { what: 'all numbers 0 (an error VVP has no place for)', location: { lineNumber: 0, columnNumber: 0, endLineNumber: 0, endColumnNumber: 0 } },
    { what: 'null numbers', location: { lineNumber: null, columnNumber: null } },
    { what: 'no numbers', location: {} },
    { what: 'a line past the text sent', location: { lineNumber: 40, columnNumber: 1 } },
  ];
  for (const c of none) {
    it(`gives no position for ${c.what}`, () => {
      assert.deepEqual(mapVvpLocation(c.location, scriptChunk(SCRIPT), index), {});
    });
  }
});

describe('decodeSqlFile', () => {
  it('removes a UTF-8 BOM, keeps CRLF, and positions count from the first character after the BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('WRONG STATEMENT;\r\nINSERT INTO a SELECT 1;', 'utf8')]);
    const decoded = decodeSqlFile(bytes);
    assert.equal(decoded.hadBom, true);
    assert.equal(decoded.script, 'WRONG STATEMENT;\r\nINSERT INTO a SELECT 1;');
    assert.equal(decoded.problem, undefined);
    const mapped = mapVvpLocation({ lineNumber: 1, columnNumber: 1, endLineNumber: 1, endColumnNumber: 5 }, scriptChunk(decoded.script), new LineIndex(decoded.script));
    assert.deepEqual(mapped, { position: { line: 1, column: 1 }, endPosition: { line: 1, column: 5 } });
  });

  it('reports a file that is not UTF-8 at its first broken character', () => {
    const decoded = decodeSqlFile(Buffer.from([0x53, 0x0a, 0x41, 0xff, 0x42]));
    assert.equal(decoded.hadBom, false);
    assert.match(decoded.problem?.message ?? '', /not valid UTF-8/);
    assert.deepEqual(decoded.problem?.position, { line: 2, column: 2 });
  });
});
