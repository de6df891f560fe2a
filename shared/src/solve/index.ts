export * from './messages.js';
export * from './prompt.js';
