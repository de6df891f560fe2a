export {
  resultRowColumns,
  resultRowSchema,
  testOutcomeSchema,
  unscoredVerdicts,
  verdicts,
  verdictSchema,
  type ResultRow,
  type Verdict,
} from './result-row.js';
export { passAtK } from './pass-at-k.js';
export { naturalCompare, percentile } from './ordering.js';
export { dedupeRows, groupByModelTask, type TaskSamples } from './tasks.js';
export {
  summarize,
  type CategorySummary,
  type Distribution,
  type ModelSummary,
  type PassAtKEntry,
  type SummarizeOptions,
  type Summary,
} from './summary.js';
export { compare, type Comparison, type ModelTaskResult, type TaskComparison } from './compare.js';
export { resultRowsToCsv, toCsv, toJsonl } from './csv.js';
export { groupByModelCategory, pathSegment, type ModelCategoryGroup } from './group.js';
