export { main } from './main.js';
export { LocalFleet, parseScale } from './fleet.js';
