// ESLint flat config: typescript-eslint's type-aware recommended rules, Prettier for layout.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const STATUS = '/^(pending|uploading|completing|uploaded|processing|ready|rejected|failed|aborted|expired|deleted)$/';
const NO_PROCESS_ENV = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: 'Read configuration through @app/config (parsed once at boot), not process.env.',
};
/** Outside systems each have one adapter library; nobody else imports their SDK (style.md, Shape). */
const adapterOnly = (lib, patterns) => ({ group: patterns, message: `Only ${lib} talks to this system: use its adapter.` });
const PRISMA = adapterOnly('libs/database', ['@prisma/*', '**/generated/prisma', '**/generated/prisma/*']);
const BULLMQ = adapterOnly('libs/queue', ['bullmq']);
const MEDIA = adapterOnly('libs/media', ['sharp', 'fluent-ffmpeg']);
const S3 = adapterOnly('libs/storage', ['@aws-sdk/*', '@smithy/*', 'sqs-consumer']);
const REDIS = adapterOnly('libs/queue', ['ioredis']);

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.tools/',
      '.stack/',
      'coverage/',
      'libs/database/src/generated/',
      'test/e2e/contract/generated/',
      'libs/sdk/dist/',
      'test/e2e/contract/typed-calls.ts',
      '**/*.cjs',
      '**/*.mjs',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Decorated constructor parameters need value imports for Nest's reflection metadata.
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-restricted-syntax': ['error', NO_PROCESS_ENV],
      'no-restricted-imports': ['error', { patterns: [PRISMA, BULLMQ, MEDIA] }],
    },
  },
  // Tests and benchmarks observe the real systems directly (an image's pixels, a raw sharp
  // baseline, a queue's jobs); Prisma's types stay in libs/database even there.
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [PRISMA] }] } },
  // Each adapter library may import its own system's SDK.
  { files: ['libs/database/**/*.ts', 'prisma.config.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [BULLMQ, MEDIA] }] } },
  { files: ['libs/queue/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [PRISMA, MEDIA] }] } },
  { files: ['libs/media/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [PRISMA, BULLMQ] }] } },
  {
    // Apps state intents (libs/lifecycle, docs/adr/0014-file-lifecycle.md): no status lists, no
    // hand-built transitions, no outside system but through its adapter.
    files: ['apps/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [PRISMA, BULLMQ, MEDIA, S3, REDIS],
          paths: [
            {
              name: '@app/database',
              importNames: ['FileTransitionRepository', 'TransitionPlan', 'ChangeOutbox', 'PrismaService'],
              message: 'Files change status through FileLifecycle (@app/lifecycle), not the repositories under it.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        NO_PROCESS_ENV,
        {
          selector: `ArrayExpression > Literal[value=${STATUS}]`,
          message: 'A list of statuses belongs to the state machine: use a named set from @app/lifecycle (AWAITING_BYTES, STORED, ...).',
        },
        {
          selector: `LogicalExpression[operator='||'] > BinaryExpression[operator=/^[!=]==$/] > Literal[value=${STATUS}]`,
          message: 'Status alternatives are a status list: use isIn(<named set>, status) from @app/lifecycle.',
        },
        {
          selector: "ObjectExpression:has(> Property[key.name='to']):has(> Property[key.name=/^(from|quota|change)$/])",
          message: 'Transitions are built by FileLifecycle from the state machine: call its intent instead.',
        },
      ],
    },
  },
  {
    // Tests and the test harness may use looser types around fixtures and raw JSON.
    files: ['**/*.spec.ts', 'test/**/*.ts', 'libs/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Where the environment is read on purpose: the config loader's default, the test harness
    // and the Prisma CLI's own config file.
    files: ['libs/config/src/load-config.ts', 'libs/testing/src/**/*.ts', 'test/**/*.ts', 'prisma.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  prettier,
);
