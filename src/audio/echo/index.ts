export { EchoCanceller, type EchoCancellerOptions } from './canceller.js';
