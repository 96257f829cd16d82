// Mutation testing (npm run test:mutation): StrykerJS changes the modules that decide writes,
// deletions and credentials one small way at a time and runs the unit tests that can see each
// change (test/mutation/run-tests.ts); a change no test notices is a behaviour no test pins.
// Incremental: the results are kept in reports/ (not committed), and a rerun tests again only the
// mutants in code that changed. The command runner reports no tests of its own, so Stryker cannot
// tell that a test changed: after changing tests, rerun with --force to retest every mutant.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/pass/**/*.ts',
    // The files that moved into src/pass/ from the top level stay out of the scope, as before the move.
    '!src/pass/{run,health,exit-codes,retry,rejected-fields,ownership}.ts',
    'src/registry/**/*.ts',
    'src/config/config.ts',
    'src/config/config-parsers.ts',
  ],
  testRunner: 'command',
  commandRunner: { command: 'node test/mutation/run-tests.ts' },
  coverageAnalysis: 'off',
  // A shared 2-core machine: one mutant at a time.
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', '.e2e', 'e2e/.state', 'reports'],
  timeoutMS: 10000,
  thresholds: { high: 90, low: 80, break: null },
};
