import { defineKind, RESULT } from '../../workflow/index.js';
import { solveCli } from './cli.js';
import { evaluateHandler } from './evaluate.js';
import { expandSolve } from './expand.js';
import { generateHandler } from './generate.js';
import { solveHtml } from './html.js';
import { judgeHandler, solveJudgeMessage, wantsJudge } from './judge.js';
import { solveMessages, solveSpecSchema } from './messages.js';
import { ProblemCache } from './problems.js';
import { solveReport } from './report.js';
import { solveDeadLettered, solveResultSchema } from './result.js';

export * from './messages.js';
export * from './prompt.js';
export * from './problems.js';
export * from './result.js';
export { sandboxJobFor, humanEvalResultText } from './evaluate.js';
export { TIMEOUTS, TimeoutCalibrator, timeoutFromReference, type Calibration } from './calibrate.js';
export { solveJobId } from './expand.js';
export {
  EVALPLUS,
  EvalPlusOracles,
  computeOracle,
  evalplusJob,
  evalplusOutcome,
  oracleKey,
  type EvalPlusOracle,
  type EvalPlusOutcome,
  type OraclePhase,
} from './evalplus.js';
export { evalplusSummary, sandboxImages, EVALPLUS_KS, type EvalPlusSummary } from './evalplus-summary.js';
export { summaryTable } from './summary-table.js';
export { mistakeCategories, UNJUDGED, judgePrompt, parseJudgeAnswer, solveJudgeMessage } from './judge.js';
export { solveFailureClusters, type SolveFailureClusters } from './failures.js';

// With a judge model (`--judge`), a failed evaluation is labelled by `solve.judge` before it is the result.
const judged = { to: solveJudgeMessage.type, while: wantsJudge, otherwise: RESULT };

/** `solve`: many models' solutions to a problem set, scored with pass@k per model and category, with cost. */
export const solveKind = defineKind({
  name: 'solve',
  description: 'solutions from models (or a samples file), run against the tests, scored with pass@k',
  spec: solveSpecSchema,
  messages: [solveMessages.generate, solveMessages.evaluate, solveJudgeMessage],
  pipeline: {
    // A samples file skips generation: each line goes straight to the sandbox.
    produce: { ok: solveMessages.generate.type, samples: solveMessages.evaluate.type },
    // A generation that yields code is evaluated; no code, a syntax error or a budget stop is a result already.
    [solveMessages.generate.type]: {
      ok: solveMessages.evaluate.type,
      no_code: RESULT,
      syntax_error: RESULT,
      budget_exhausted: RESULT,
    },
    [solveMessages.evaluate.type]: { passed: RESULT, failed: judged, error: judged, timeout: judged, oom: judged },
    [solveJudgeMessage.type]: { failed: RESULT, error: RESULT, timeout: RESULT, oom: RESULT },
  },
  expand: expandSolve,
  worker: (host) => {
    const problems = new ProblemCache(host.store);
    const handlers = [evaluateHandler(problems, host.store)];
    // The generate handler needs an extractor, which only model-calling hosts load.
    if (host.caps.models) handlers.push(generateHandler(host, problems), judgeHandler(problems));
    return handlers;
  },
  result: solveResultSchema,
  group: (r) => r.model,
  deadLettered: solveDeadLettered,
  report: solveReport,
  html: solveHtml,
  cli: solveCli,
});
