/**
 * `medfield/node`: the Node-only part of the library — files by name (any supported format,
 * atomic writes), ITK readers/writers, DICOM series, elastix registration, progress on stderr.
 */
export * from './fs.js';
export * from './volume-io.js';
export { readItkVolume, writeItkVolume, ITK_WRITE_EXTENSIONS, type WriteItkOptions } from './itk-io.js';
export { listDicomSeries, loadDicomSeries, readDicomSeries, type DicomSeriesInfo } from './dicom.js';
export * from './register.js';
export * from './progress.js';
export * from './dataset.js';
export * from './checkpoint.js';
export * from './xray-data.js';
export { fdkThreaded, type FdkThreadedOptions } from './recon-pool.js';
export * from './physics-pool.js';
export { createEnginePool, type EnginePoolOptions } from './engine-pool.js';
export * from './run-folder.js';
export * from './svr-io.js';
