export * from './messages.js';
export * from './prompt.js';
export * from './problems.js';
