// The architecture lint (issue 14): arrows point down — apps → libs, libs → the event-store port,
// adapters only in the composition root. `npm run lint:arch` checks it; violations that existed
// when the rules were written are listed in .dependency-cruiser-known-violations.json and ignored
// (`--ignore-known`) until their rooms are rewritten; anything new fails `npm test`.
// docs/decisions.md ("Architecture lint") says why the rules are shaped as they are.

/** Libs that hold rules or read models: they see the event store only through its port. */
const DOMAIN_LIBS = '^libs/(identity|scim|support|audit|auth|read-models|projections|events|privacy)/';
/** The store adapters and the drivers they wrap. */
const ADAPTER_DIRS = '^libs/event-store/src/(sqlite|postgres|eventstoredb)/';
const DRIVERS = '(^|/)node_modules/(better-sqlite3|pg|pg-[a-z-]+|@eventstore/db-client)/';
/** Tests and their helpers build real stores; they are the composition root of a unit. */
/** What one lib (or an app) may import of another lib. */
const PUBLIC_ENTRY_POINTS = ['^libs/[^/]+/src/index\\.ts$', '^libs/[^/]+/src/domain\\.ts$', '^libs/[^/]+/src/testing/', '^libs/event-store/src/adapters\\.ts$'];
const TEST_FILES = ['\\.spec\\.ts$', '/testing/'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two files are one room split in two: merge them or move the shared part down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'libs-not-to-apps',
      severity: 'error',
      comment: 'Libs sit below the apps; an app composes libs, never the other way round.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'domain-not-to-adapter',
      severity: 'error',
      comment:
        'Domain libs depend on the event-store port (@app/event-store), not on an adapter: ' +
        'the composition root (apps/) picks the store.',
      from: { path: DOMAIN_LIBS, pathNot: TEST_FILES },
      to: { path: ADAPTER_DIRS },
    },
    {
      name: 'domain-not-to-driver',
      severity: 'error',
      comment:
        'Domain libs do not use a database driver: they get the SQL handle type from a port ' +
        '(ReadModelDb in @app/projections) and the handle itself from the composition root.',
      from: { path: DOMAIN_LIBS, pathNot: [...TEST_FILES, '\\.port\\.ts$'] },
      to: { path: DRIVERS },
    },
    {
      name: 'port-names-driver-types-only',
      severity: 'error',
      comment:
        'Read models are SQLite tables on every store, so the one honest exception: a port file ' +
        '(*.port.ts) may name the driver types the port is made of, type-only (erased at build).',
      from: { path: `${DOMAIN_LIBS}.+\\.port\\.ts$` },
      to: { path: DRIVERS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'event-store-entry-is-the-port',
      severity: 'error',
      comment:
        "@app/event-store's index is what domain libs import, so it exports the port only; the " +
        "adapters have their own entry point (@app/event-store/adapters) for the composition root.",
      from: { path: '^libs/event-store/src/index\\.ts$' },
      to: { path: [ADAPTER_DIRS, '^libs/event-store/src/(create-event-store|log-copy|leases/postgres-leader-lease)\\.ts$'] },
    },
    {
      name: 'adapters-entry-only-for-composition-root',
      severity: 'error',
      comment: '@app/event-store/adapters is for apps/ (and tests): a lib that needs a store takes the port.',
      from: { path: DOMAIN_LIBS, pathNot: TEST_FILES },
      to: { path: '^libs/event-store/src/adapters\\.ts$' },
    },
    {
      name: 'no-deep-import-across-libs',
      severity: 'error',
      comment:
        "Import another lib through its public entry point (@app/<lib>, i.e. its src/index.ts): its other " +
        'files are its own business. Deliberate extra entry points: src/testing/** (test helpers) and ' +
        '@app/event-store/adapters (composition root).',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$1/', ...PUBLIC_ENTRY_POINTS] },
    },
    {
      name: 'no-deep-import-from-apps',
      severity: 'error',
      comment: 'Apps use libs through their public entry points too (@app/<lib>), like any other client.',
      from: { path: '^apps/' },
      to: { path: '^libs/', pathNot: PUBLIC_ENTRY_POINTS },
    },
    {
      name: 'deep-import-within-own-lib-via-alias',
      severity: 'error',
      comment: "Inside a lib use relative imports; '@app/<same lib>' would go through the index and invite cycles.",
      from: { path: '^libs/([^/]+)/src/(?!index\\.ts$)' },
      to: { path: '^libs/$1/src/index\\.ts$' },
    },
    {
      name: 'testing-only-from-tests',
      severity: 'error',
      comment: 'src/testing/** and *.spec.ts are not built (.swcrc excludes them): production code importing them fails at runtime.',
      from: { pathNot: TEST_FILES },
      to: { path: TEST_FILES },
    },
    {
      name: 'controller-not-to-writer-or-store',
      severity: 'error',
      comment:
        'Controllers translate HTTP to commands/queries on the bus; writers and the event store ' +
        'belong to handlers in the libs.',
      from: { path: '^apps/scim-server/src/.+\\.controller\\.ts$' },
      to: { path: ['-writer\\.ts$', '^libs/event-store/'] },
    },
    {
      name: 'decider-is-pure',
      severity: 'error',
      comment:
        'A decider (initialState/evolve/decide) is pure: it imports only other pure domain files — not ' +
        'the store, the app, or a handler/writer/repository/projection/module.',
      from: { path: '\\.decider\\.ts$' },
      to: {
        path: [
          '^libs/event-store/',
          '^apps/',
          '\\.(handler|handlers|controller|module|projection|repository|service|queries|query-handlers)\\.ts$',
          '-writer\\.ts$',
          '/unit-of-work\\.ts$',
        ],
      },
    },
    {
      name: 'decider-takes-only-types-from-ports',
      severity: 'error',
      comment: 'A decider may name a port\'s types (GroupInfo…), never its tokens or implementations.',
      from: { path: '\\.decider\\.ts$' },
      to: { path: ['/ports\\.ts$', '\\.port\\.ts$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'decider-takes-only-types-from-other-libs',
      severity: 'error',
      comment:
        "Another lib's entry point loads its handlers (Nest, the store): a decider takes only types " +
        'from it (erased at build); a value it needs belongs in its own lib or a pure file.',
      from: { path: '^libs/([^/]+)/.+\\.decider\\.ts$' },
      // A lib's light entry point (src/domain.ts) holds pure files only; its values are fine.
      to: { path: '^libs/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/domain\\.ts$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'decider-no-packages-or-builtins',
      severity: 'error',
      comment: 'A decider is pure: no Nest, no npm package, no node builtin (time and ids come in the command).',
      from: { path: '\\.decider\\.ts$' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'domain-entry-is-light',
      severity: 'error',
      comment:
        "A lib's src/domain.ts is its light entry point (pure files, for the CLI and the offline " +
        'verifier): nothing it exports may reach Nest, the event store or a driver.',
      from: { path: '^libs/[^/]+/src/domain\\.ts$' },
      // The event store's port files (its index) are pure types and errors; its adapters are not.
      to: { path: ['(^|/)node_modules/@nestjs/', '^libs/event-store/src/(?!(index|event-store\\.port|errors|event-filter|time-ordered-id)\\.ts$|leases/leader-lease\\.ts$)', DRIVERS], reachable: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the lint cannot resolve is one it cannot check (or a broken alias).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules may be a symlink (git worktrees): keep its paths as written so the baseline matches everywhere.
    preserveSymlinks: true,
    exclude: { path: '^dist/' },
    // Type-only imports are arrows too: a type pulled from an adapter still ties the file to it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    cache: false,
  },
};
