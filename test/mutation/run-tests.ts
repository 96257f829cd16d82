// The command StrykerJS runs for each mutant (stryker.config.mjs): the unit tests that import the
// mutated file, directly or through other modules, in one process. Stryker names the active mutant
// in __STRYKER_ACTIVE_MUTANT__ and the instrumented sources hold each mutant's id, so the file is
// found by its id; without one (Stryker's first, unmutated run) every candidate test runs. Running
// only what can see the mutant keeps a mutant at about a second instead of the whole suite's minute.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';

/**
 * Left out: they start the program, helm, a C compiler or bash as processes (seconds each, helm only
 * once the e2e binaries are built), and the modules under mutation are tested in-process elsewhere.
 */
const SPAWNING = new Set(['chart', 'cli', 'cli-pass', 'helper', 'log', 'node-version', 'openshift-template', 'prepare', 'values']);

/**
 * KIP_MUTATION_TESTS="test/a.test.ts,test/b.test.ts" narrows the candidates to those files. Fewer
 * tests per mutant make a module with many reaching tests affordable; the score is then a lower
 * bound, since a test left out can only kill mutants, never save them.
 */
const chosen = process.env.KIP_MUTATION_TESTS?.split(',').map((file) => file.trim()).filter((file) => file !== '');

const root = process.cwd();
const candidates = readdirSync(join(root, 'test'))
  .filter((name) => name.endsWith('.test.ts') && !SPAWNING.has(name.slice(0, -'.test.ts'.length)))
  .map((name) => join('test', name))
  .filter((test) => chosen === undefined || chosen.includes(test))
  .sort();
const unknown = chosen?.filter((file) => !candidates.includes(file)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`KIP_MUTATION_TESTS names ${unknown.join(', ')}, which is not a unit test file under test/ that runs in-process\n`);
  process.exit(2);
}

const importsOf = new Map<string, string[]>();
function relativeImports(file: string): string[] {
  let found = importsOf.get(file);
  if (found === undefined) {
    const text = readFileSync(join(root, file), 'utf8');
    // Type-only imports load nothing, so a test that has only those cannot see the mutant.
    found = [...text.matchAll(/^(?:import|export)(?! type\b)[^;]*? from '(\.{1,2}\/[^']+\.ts)'/gm)].map((match) => relative(root, resolve(root, dirname(file), match[1] ?? '')));
    importsOf.set(file, found);
  }
  return found;
}

function reaches(test: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [test];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (file === target) return true;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...relativeImports(file));
  }
  return false;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The source file that holds this mutant, as Stryker's instrumenter marks it: stryMutAct_9fa48("id"). */
function fileOfMutant(id: string): string | undefined {
  const mark = `stryMutAct_9fa48("${id}")`;
  return sourcesUnder('src').find((file) => readFileSync(join(root, file), 'utf8').includes(mark));
}

const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
const mutated = mutant === undefined ? undefined : fileOfMutant(mutant);
// A mutant whose file cannot be found (a changed instrumenter) is tested by every candidate: slower, never wrong.
const tests = mutated === undefined ? candidates : candidates.filter((test) => reaches(test, mutated));
if (tests.length === 0) {
  process.stderr.write(`no unit test imports ${String(mutated)}: the mutant survives\n`);
} else {
  const run = spawnSync(process.execPath, ['--test', '--test-isolation=none', '--test-timeout=30000', '--test-reporter=dot', ...tests], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
}
