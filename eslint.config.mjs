// Lint of the TypeScript sources (`npm run lint`, part of `npm test`): the recommended rules of
// ESLint and typescript-eslint, the one architectural rule (only the pipeline adapter,
// tasks/common/pipeline/, talks to the agent through task-lib and tool-lib), and no
// AbortSignal.timeout/any in the product (they never fire on Node 20 after a GC).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Why the product must not combine signals or time them out with the platform's helpers. */
const WEAK_SIGNAL =
  'On Node 20 (the agent runs tasks on it) this signal is held only weakly: after a garbage collection it never aborts, and a request to a server that never answers hangs the step. Use linkSignals() from tasks/common/poll/linked-signal.ts.';

const TASK_LIB = ['azure-pipelines-task-lib', 'azure-pipelines-task-lib/*', 'azure-pipelines-tool-lib', 'azure-pipelines-tool-lib/*'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // The product: the core never talks to the agent itself.
    files: ['tasks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: TASK_LIB, message: 'Only tasks/common/pipeline/ imports task-lib or tool-lib: the core logs through Logger and takes plain data.' }] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'AbortSignal', property: 'timeout', message: WEAK_SIGNAL },
        { object: 'AbortSignal', property: 'any', message: WEAK_SIGNAL },
      ],
    },
  },
  // The pipeline adapter, and the facade it loads tool-lib through on first use (lazy/tool-lib.ts).
  { files: ['tasks/common/pipeline/**/*.ts', 'tasks/common/lazy/tool-lib.ts'], rules: { 'no-restricted-imports': 'off' } },
  // Tests read untyped JSON answers (request logs, bodies) and drive agent-like fixtures with task-lib.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
