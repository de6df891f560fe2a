export * from './envelope.js';
export * from './catalog.js';
export * from './decode.js';
