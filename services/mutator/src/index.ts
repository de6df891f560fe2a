export { startMutator } from './main.js';
export { createMutationEngine, operators, selectOperators, skipRules } from './engine/index.js';
