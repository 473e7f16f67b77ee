// Nest 12 ships ESM only; jest's CommonJS runtime cannot require(esm) on Node 20, so the
// @nestjs packages (and unicode-case-folding) are transformed to CommonJS by swc like our own sources.
const swcJest = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
    swcrc: false,
  },
];
const moduleNameMapper = {
  '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  '^@app/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = {
  transform: { '^.+\\.(ts|js|mjs)$': swcJest },
  transformIgnorePatterns: ['^(?!.*/node_modules/(@nestjs|file-type|strtok3|token-types|@tokenizer|uint8array-extras|content-disposition|cookie|unicode-case-folding)/).*/node_modules/'],
  moduleNameMapper,
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
  testTimeout: 30000,
};
