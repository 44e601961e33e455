/**
 * Runs pipeline-agent code in the test process as the agent would see it: agent variables as
 * the environment variables the agent sets (`Build.SourcesDirectory` → `BUILD_SOURCESDIRECTORY`),
 * and task-lib's logging commands captured instead of printed (a test run inside a pipeline must
 * not send `##vso[...]` commands to its own agent).
 */
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';

/** The environment variable the agent sets for `variable`, as task-lib reads it. */
function variableKey(variable: string): string {
  return variable.replace(/[. ]/g, '_').toUpperCase();
}

/**
 * Runs `action` with the agent variables `variables` set (undefined: unset) and task-lib's output
 * captured; restores both afterwards. Returns what `action` returned and the lines task-lib wrote.
 */
export function inAgentEnvironment<T>(variables: Record<string, string | undefined>, action: () => T): { result: T; lines: string[] } {
  const saved = Object.keys(variables).map((name) => [variableKey(name), process.env[variableKey(name)]] as const);
  let output = '';
  const capture = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete process.env[variableKey(name)];
    else process.env[variableKey(name)] = value;
  }
  tl.setStdStream(capture);
  try {
    const result = action();
    return { result, lines: output.split(/\r?\n/).filter((line) => line !== '') };
  } finally {
    tl.setStdStream(process.stdout);
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
