export * from './bus.js';
export * from './files.js';
