// ESLint with typescript-eslint's type-aware rules: the ones that catch real bugs in this code base
// (a promise nobody awaits, an async function where a callback must be sync, `any` leaking out of
// JSON and libraries) and keep imports honest. Layout is Prettier's job (npm run format), not ESLint's.
// Speed: one TypeScript program for the whole tree (the project service reads tsconfig.json), so a
// full run costs about one `tsc --noEmit` plus the rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'test-artifacts/', '.data/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `x == null` is the one loose comparison we use: it means "null or undefined" on purpose.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Noise here: Stripe's expandable fields are typed `string | Object`, and String(field) is how
      // the code reads an id it knows is not expanded. A real "[object Object]" in a message or key
      // is still caught by restrict-template-expressions.
      '@typescript-eslint/no-base-to-string': 'off',
      // Noise here: functions are async to meet an async contract (Fastify plugins and hooks, the
      // webhook handler registry, Kysely's migration provider) even when their body needs no await.
      // A missing await that matters is caught by no-floating-promises.
      '@typescript-eslint/require-await': 'off',
      // Its autofix ran once over the tree (the casts it removed are gone). What it still reports is
      // style only: it asks for a generic call's type argument instead of an assertion on the result
      // (csv-parse's parse, Playwright's evaluate, inject's json), which reads no better here.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // Migrations must not depend on today's Database type (they describe every past schema), so they
    // and the migrator take Kysely<any>, as Kysely's migration docs do.
    files: ['migrations/**/*.ts', 'src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // vitest's asymmetric matchers (expect.stringMatching, expect.any, …) are typed `any`, so putting
    // one in an expected object is flagged although it is exactly how the matchers are meant to be used.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // The one browser script (the pay page): plain ES5 in the browser, no TypeScript program.
    files: ['views/static/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly' },
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // What `npm start` runs before anything can compile TypeScript: plain JavaScript for Node.
    files: ['src/cli/start.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
