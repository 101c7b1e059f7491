/** Fields built from engine parts: the attenuation field (X-ray) and the radiance field (views). */
export * from './attenuation.js';
export { RadianceField, RADIANCE_FIELD_PRESETS, RADIANCE_FIELD_PRESET_NAMES, resolveRadianceFieldConfig, densitySchema, type DensityConfig, type RadianceFieldPreset } from './radiance.js';
