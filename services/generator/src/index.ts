export { startGenerator } from './main.js';
export { handleGenerate, type GeneratorDeps } from './handle-generate.js';
