export {
  createExtractor,
  extractCode,
  extractionMethods,
  extractionOutcomes,
  type ExtractionMethod,
  type ExtractionOutcome,
  type ExtractionResult,
  type ExtractOptions,
  type Extractor,
} from './extract.js';
export { analyzePython, type PythonAnalysis, type SyntaxProblem, type TopLevelName } from './python-analysis.js';
export { createPythonParser, pythonGrammarPath } from './python-parser.js';
export { findFencedBlocks, type FencedBlock } from './fences.js';
