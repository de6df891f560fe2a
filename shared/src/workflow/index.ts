export * from './capabilities.js';
export * from './types.js';
export * from './define.js';
export * from './platform.js';
export * from './registry.js';
export * from './router.js';
export * from './host.js';
export * from './load.js';
