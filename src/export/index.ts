/** Export: reports and export grids. */
export * from './report.js';
export * from './export-grid.js';
export * from './svr-report.js';
