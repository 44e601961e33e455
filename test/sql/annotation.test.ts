import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commandFromString } from 'azure-pipelines-task-lib/taskcommand';
import { errorAnnotation } from '../../tasks/common/pipeline/pipeline-agent';
import { inAgentEnvironment } from '../support/agent-environment';

const SOURCES = path.resolve('/agent/_work/1/s');

describe('errorAnnotation', () => {
  it('puts the problem on the file line and column, the path relative to the sources directory with forward slashes', () => {
    const line = errorAnnotation({ message: 'SQL parse failed', position: { line: 12, column: 3 } }, path.join(SOURCES, 'sql', 'orders.sql'), SOURCES);
    assert.equal(line, '##vso[task.logissue type=error;sourcepath=sql/orders.sql;linenumber=12;columnnumber=3;]SQL parse failed');
  });

  it('names the file only when the problem has no position: never line 0', () => {
    const line = errorAnnotation({ message: 'Table `vvp`.`default`.`t` already exists.' }, path.join(SOURCES, 'a.sql'), SOURCES);
    assert.equal(line, '##vso[task.logissue type=error;sourcepath=a.sql;]Table `vvp`.`default`.`t` already exists.');
    assert.doesNotMatch(errorAnnotation({ message: 'x', position: { line: 0, column: 0 } }, path.join(SOURCES, 'a.sql'), SOURCES), /linenumber|columnnumber/);
  });

  it('escapes the message and the properties as the agent reads them back', () => {
    const file = path.join(SOURCES, 'we;ird]', 'q%.sql');
    const message = "Encountered \"]\" at line 1;\r\nnext line 100% ';'";
    const line = errorAnnotation({ message, position: { line: 1, column: 2 } }, file, SOURCES);
    assert.doesNotMatch(line, /[\r\n]/);
    assert.match(line, /sourcepath=we%3Bird%5D\/q%AZP25\.sql;/);
    const parsed = commandFromString(line);
    assert.equal(parsed.command, 'task.logissue');
    assert.equal(parsed.properties.sourcepath, 'we;ird]/q%.sql');
    assert.equal(parsed.properties.linenumber, '1');
    assert.equal(parsed.message, message);
  });

  it('defuses logging commands inside the message', () => {
    const line = errorAnnotation({ message: 'bad ##vso[task.setvariable variable=x]1' }, path.join(SOURCES, 'a.sql'), SOURCES);
    assert.equal(line.indexOf('##vso['), 0);
    assert.equal(line.lastIndexOf('##vso['), 0);
  });
});

describe('the path an annotation names', () => {
  const sourcepath = (line: string): string | undefined => commandFromString(line).properties.sourcepath;
  const problem = { message: 'SQL parse failed', position: { line: 1, column: 1 } };

  it('keeps a file outside the sources directory as given, with forward slashes', () => {
    assert.equal(sourcepath(errorAnnotation(problem, '/tmp/x/a.sql', SOURCES)), '/tmp/x/a.sql');
    assert.equal(sourcepath(errorAnnotation(problem, 'C:\\work\\a.sql', SOURCES)), 'C:/work/a.sql');
  });

  it("takes the sources directory from the agent's Build.SourcesDirectory, and without one keeps the file's own path with forward slashes", () => {
    const inside = inAgentEnvironment({ 'Build.SourcesDirectory': SOURCES }, () => errorAnnotation(problem, path.join(SOURCES, 'sql', 'orders.sql')));
    assert.equal(sourcepath(inside.result), 'sql/orders.sql');
    const without = inAgentEnvironment({ 'Build.SourcesDirectory': undefined }, () => errorAnnotation(problem, 'C:\\work\\a.sql'));
    assert.equal(sourcepath(without.result), 'C:/work/a.sql');
  });
});
