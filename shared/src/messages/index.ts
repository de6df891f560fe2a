export * from './envelope.js';
export * from './catalog.js';
export * from './workflow.js';
export * from './decode.js';
