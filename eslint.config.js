// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.devstack/', 'data/', 'dist/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
      // Async mocks and probes without awaits are normal here.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no lib adapters.
    files: ['workflows/**/*.ts'],
    rules: {
      // A plain Error thrown from a workflow does not fail the run: its task is retried for ever.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/^(Error|TypeError|RangeError|SyntaxError|ReferenceError)$/]',
          message:
            'Workflows fail with a typed ApplicationFailure (ApplicationFailure.nonRetryable(message, type)), never a plain Error.',
        },
        {
          selector: 'CallExpression[callee.name=/^(Error|TypeError|RangeError)$/]',
          message: 'Workflows fail with a typed ApplicationFailure, never a plain Error.',
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'child_process', 'http', 'https', 'net'],
              message: 'Workflows must stay deterministic: no Node built-ins.',
            },
            {
              // Pure helpers workflows may share with activities: lib/util/pool and lib/util/dates.
              regex: '^\\.\\./lib/(?!util/(pool|dates)\\.js$)',
              allowTypeImports: true,
              message: 'Workflows call activities; they import lib types only.',
            },
            {
              group: ['kafkajs', '@aws-sdk/*', '@duckdb/*'],
              message: 'Workflows call activities; they do not do I/O.',
            },
            {
              group: ['../activities/*'],
              allowTypeImports: true,
              message: 'Workflows import activity types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // lib/ is the pipeline's own logic, independent of Temporal.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@temporalio/*'], message: 'lib/ imports no Temporal package.' }] },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts', 'workers/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Test doubles: asserting on mocked methods and asymmetric matchers (typed any) is the point.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // The dashboard page's script runs in the browser, outside the TypeScript project.
    files: ['lib/dashboard/public/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
