export * from './bus.js';
export * from './files.js';
export * from './registry.js';
export * from './runtime.js';
