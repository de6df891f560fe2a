export * from './model.js';
export { escapeHtml, inlineScript, jsonForScript } from './escape.js';
export { clip, mapLimit, type ClippedText } from './clip.js';
export { renderReportPage } from './page.js';
export { renderRunPage, reportHtmlName, runOverview, writeRunPage, type RunPageInput } from './run-page.js';
export { failureSignature, maskLiterals, type FailureSignature } from './signature.js';
export { clusterFailures, type FailureCluster } from './clusters.js';
export {
  callRow,
  listTraces,
  loadCalls,
  readTrace,
  storedTraceSchema,
  type CallRow,
  type StoredTrace,
  type TraceRef,
} from './traces.js';
