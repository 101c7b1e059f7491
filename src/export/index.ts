/** Export: reports and export grids. */
export * from './report.js';
export * from './export-grid.js';
