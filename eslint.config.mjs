// ESLint flat config: typescript-eslint's recommended rules for the whole monorepo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // Controllers translate HTTP only: writers belong to the libs' handlers (issue 14). The
    // architecture lint (.dependency-cruiser.cjs) sees files, not names, and the writers come
    // through @app/identity's public entry point, so the names are checked here.
    files: ['apps/scim-server/src/**/*.controller.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@app/identity',
              importNames: ['AccountWriter', 'ScimGroupWriter', 'UnitOfWork', 'AccountRepository'],
              message: 'A controller sends a command on the bus; the handler in the lib uses the writer.',
            },
          ],
        },
      ],
    },
  },
  {
    // End-to-end tests read untyped JSON from HTTP responses.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['apps/scim-server/console/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', window: 'readonly', sessionStorage: 'readonly', location: 'readonly', fetch: 'readonly', URLSearchParams: 'readonly', URL: 'readonly', Node: 'readonly', console: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['apps/scim-server/console/**'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
  },
);
