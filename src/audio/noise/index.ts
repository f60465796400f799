export { NoiseSuppressionFilter } from './filter.js';
export { createNoiseSuppressionEngine } from './engines.js';
export type { NoiseSuppressionEngine, NoiseSuppressionKind } from './engines.js';
