export { builtinKinds, loadKindRegistry } from './registry.js';
