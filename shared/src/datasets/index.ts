export {
  codeModes,
  evalplusDatasets,
  evalplusTestsSchema,
  identifierSchema,
  nativeTestFormats,
  problemSchema,
  problemSources,
  taskIdSchema,
  testFormats,
  type CodeMode,
  type EvalPlusTests,
  type Problem,
  type ProblemSource,
  type TestFormat,
} from './problem.js';
export {
  detectFormat,
  parseProblemSet,
  type ParsedProblemSet,
  type ProblemSetError,
  type ProblemSetFormat,
} from './parse.js';
export { fromNativeRecord } from './native.js';
export { fromHumanEvalRecord, signatureLine } from './humaneval.js';
export { fromMbppRecord, mbppEntryPoint, mbppTaskId } from './mbpp.js';
export { evalplusDatasetOf, evalplusReferenceProgram, fromEvalPlusLine, looksLikeEvalPlus } from './evalplus.js';
export { arrayElements, checkPythonJson, objectMembers, type Span } from './raw-json.js';
export type { RecordResult } from './record-result.js';
export { listCategories, selectProblems, type ProblemFilter } from './select.js';
export { datasetId } from './dataset-id.js';
export {
  buildProgram,
  buildReferenceProgram,
  buildSolution,
  SCRIPT_FILE,
  SOLUTION_FILE,
  starterPreamble,
  TEST_FILE,
  type BuildOptions,
  type SandboxProgram,
} from './program.js';
export { parseSamples, resolveSampleTask, sampleResultLine, type Sample } from './samples.js';
