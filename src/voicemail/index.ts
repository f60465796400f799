export {
  AnsweringMachineDetector,
  VOICEMAIL_PHRASES,
  carrierVerdict,
  type AnsweringDecision,
  type AnsweringMachineDetectorOptions,
  type AnsweringMachineReason,
} from './answering-machine-detector.js';
export { BeepDetector, type Beep, type BeepDetectorOptions } from './beep-detector.js';
export { checkVoicemailDetectionOptions, type VoicemailDetectionOptions, type VoicemailEvent } from './options.js';
export { VoicemailProcessor, type GreetingEnd, type VoicemailProcessorOptions } from './voicemail-processor.js';
