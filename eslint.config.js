// @ts-check
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import reactHooks from 'eslint-plugin-react-hooks'

/**
 * Architecture boundaries, enforced here rather than remembered:
 * - the core (src/main/core) is plain Node: no Electron, no React, no tools, no CLI;
 * - domain modules of the core stay apart from HTTP glue: only ingest/ and api/ may use node:http;
 * - src/shared is the contract: no Node, no Electron, no DOM-only code;
 * - the renderer talks to the core only through src/shared and its own api client.
 */
const ELECTRON = {
  name: 'electron',
  message: 'The core runs under plain Node; Electron glue lives in src/main/*.ts only.',
}
const coreForbidden = {
  paths: [ELECTRON, { name: 'react', message: 'The core has no UI.' }],
  patterns: [
    {
      group: ['**/tools/**'],
      message: 'The simulator and the Salesforce emulator are tools; the core never imports them.',
    },
    { group: ['**/cli/**'], message: 'The CLI drives the core, not the other way round.' },
    { group: ['**/renderer/**'], message: 'The renderer reaches the core only through the API.' },
  ],
}
const httpGlue = [
  { name: 'node:http', message: 'Domain logic stays apart from HTTP glue (ingest/, api/).' },
  { name: 'node:https', message: 'Domain logic stays apart from HTTP glue (ingest/, api/).' },
  { name: 'http', message: 'Domain logic stays apart from HTTP glue (ingest/, api/).' },
]

export default tseslint.config(
  { ignores: ['out/**', 'out-e2e/**', 'node_modules/**', 'dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    files: ['*.config.ts', '*.config.js', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/main/core/**/*.ts'],
    ignores: ['src/main/core/ingest/**', 'src/main/core/api/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...coreForbidden, paths: [...coreForbidden.paths, ...httpGlue] },
      ],
    },
  },
  {
    files: ['src/main/core/ingest/**/*.ts', 'src/main/core/api/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', coreForbidden] },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON],
          patterns: [
            { group: ['node:*'], message: 'src/shared runs in the renderer too: no Node.' },
            {
              group: ['**/main/**', '**/renderer/**', '**/tools/**'],
              message: 'src/shared depends on nothing of the app.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/tools/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON],
          patterns: [
            {
              group: ['**/main/**', '**/renderer/**'],
              message: 'Tools stand apart from the app; they may use src/shared only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON],
          patterns: [
            { group: ['node:*'], message: 'The renderer runs in a browser.' },
            {
              group: ['**/main/**', '**/tools/**'],
              message: 'The renderer reaches the core only through the API.',
            },
          ],
        },
      ],
    },
  },
)
