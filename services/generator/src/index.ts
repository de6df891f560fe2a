export { startGenerator } from './main.js';
