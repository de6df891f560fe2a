export * from './keys.js';
export * from './record.js';
export * from './counters.js';
export * from './finalize.js';
export * from './added.js';
