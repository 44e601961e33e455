// Lint of the TypeScript sources (`npm run lint`, part of `npm test`): the recommended rules of
// ESLint and typescript-eslint, and the one architectural rule: only the pipeline adapter
// (tasks/common/pipeline/) talks to the agent through task-lib and tool-lib.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    },
  },
  // The pipeline adapter, and the facade it loads tool-lib through on first use (lazy/tool-lib.ts).
  { files: ['tasks/common/pipeline/**/*.ts', 'tasks/common/lazy/tool-lib.ts'], rules: { 'no-restricted-imports': 'off' } },
  // Tests read untyped JSON answers (request logs, bodies) and drive agent-like fixtures with task-lib.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
