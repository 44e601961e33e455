import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findMatch } from 'azure-pipelines-task-lib/task';
import { InputError } from '../../tasks/common/errors/errors';
import { resolveArtifactFile } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/find-artifact';

const match = (root: string, patterns: string[]): string[] => findMatch(root, patterns);

describe('resolveArtifactFile (with task-lib findMatch)', () => {
  let root = '';
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'find-artifact-'));
    for (const f of ['job/target/job-1.0.jar', 'job/target/original-job-1.0.jar', 'job/target/classes.jar/Main.class', 'other/target/other.jar']) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), f);
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('takes a file an absolute pattern names outside the working directory (a downloaded pipeline artifact)', () => {
    const downloaded = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-workspace-'));
    try {
      fs.mkdirSync(path.join(downloaded, 'jar'));
      fs.writeFileSync(path.join(downloaded, 'jar', 'job.jar'), 'jar');
      const found = resolveArtifactFile([path.join(downloaded, 'jar', '*.jar')], root, match);
      assert.equal(found.realPath, fs.realpathSync(path.join(downloaded, 'jar', 'job.jar')));
    } finally {
      fs.rmSync(downloaded, { recursive: true, force: true });
    }
  });

  test('returns the one file a pattern and its exclusions leave', () => {
    assert.equal(resolveArtifactFile(['job/target/*.jar', '!**/original-*.jar'], root, match).matchedPath, path.join(root, 'job/target/job-1.0.jar'));
  });

  test('ignores folders that match the pattern', () => {
    // classes.jar is a folder here; only files count.
    assert.equal(resolveArtifactFile(['**/job/target/*.jar', '!**/original-*'], root, match).matchedPath, path.join(root, 'job/target/job-1.0.jar'));
  });

  test('lists the patterns and the matched files when more than one file matches', () => {
    assert.throws(
      () => resolveArtifactFile(['**/target/*.jar'], root, match),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.problems[0].input, 'artifactPath');
        assert.match(error.message, /'\*\*\/target\/\*\.jar'/);
        assert.match(error.message, /matched 3: /);
        assert.match(error.message, /job\/target\/job-1\.0\.jar/);
        assert.match(error.message, /original-job-1\.0\.jar/);
        assert.match(error.message, /!\*\*\/original-\*\.jar/);
        return true;
      },
    );
  });

  test('says nothing matched, and lists the folders that did', () => {
    assert.throws(() => resolveArtifactFile(['**/*.war'], root, match), /matched no file\. Check the path/);
    assert.throws(() => resolveArtifactFile(['job/target/classes.jar'], root, match), /matched only 1 folder\(s\): job\/target\/classes\.jar/);
  });

  test('shows at most 20 names and how many more there are', () => {
    const many = Array.from({ length: 25 }, (_, i) => path.join(root, `f${i}.jar`));
    assert.throws(
      () => resolveArtifactFile(['*.jar'], root, () => many.map((m) => (fs.writeFileSync(m, 'x'), m))),
      /and 5 more/,
    );
  });
});
