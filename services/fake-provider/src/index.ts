export { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './server.js';
export { CompletionEngine, type Arrival, type EngineOptions } from './completions.js';
export { parseBehaviour, defaultBehaviour, type Behaviour } from './behaviour.js';
export { parseProblems, findProblem, type Problem } from './problems.js';
export { SlidingWindowLimiter, type LimitDecision } from './limiter.js';
export { sampleProblemsJsonl } from './sample-problems.js';
