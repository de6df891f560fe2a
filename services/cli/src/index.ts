export { main } from './main.js';
export { LocalFleet, parseScale } from './fleet.js';
export { summaryTable } from './commands/report.js';
