// One flat config for the whole workspace; every package runs `eslint .` against it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.cache/**', '**/.turbo/**', '**/.roster/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Only config files read the environment (create-t3-turbo's restrictEnvAccess).
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through loadConfig().' },
      ],
    },
  },
  {
    files: [
      '**/config.ts',
      '**/config/*.ts',
      '**/*.test.ts',
      '**/testing/**',
      '**/vitest.*.ts',
      'bench/**',
      'test/**',
      'apps/cli/src/main.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // supertest and fetch bodies are untyped JSON; asserting on them is the point of a test.
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Core decides; it speaks no protocol (STYLE B2).
    files: ['packages/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['express', 'express/*', 'scimmy', 'scimmy/*', '@node-saml/*', 'pino-http'],
              message: 'packages/core speaks no protocol.',
            },
          ],
        },
      ],
    },
  },
  {
    // An example consumer uses Roster as another team would: through the public read API only.
    files: ['examples/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@roster/(?!core/directory$)',
              message: 'Other apps read Roster through @roster/core/directory only.',
            },
            {
              regex: '^\\.\\./\\.\\./\\.\\./',
              message: 'Import Roster as a package, never by path.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
