// Small processors used by the pipeline tests.
import { makeFrame, type Frame, type FrameDirection, type FrameType } from '../../src/frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../src/pipeline/index.js';
import type { Logger } from '../../src/logging/index.js';

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Holds every frame of the given types until `release()` (or each `step()`), like a slow service. */
export class GateProcessor extends FrameProcessor {
  private gates: Deferred[] = [];
  readonly processed: Frame[] = [];

  constructor(
    private readonly slowTypes: ReadonlySet<FrameType>,
    options: FrameProcessorOptions = {},
  ) {
    super(options);
  }

  /** Lets the frame in progress finish. */
  step(): void {
    this.gates.shift()?.resolve();
  }

  get waiting(): number {
    return this.gates.length;
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (this.slowTypes.has(frame.type) && direction === 'downstream') {
      const gate = deferred();
      this.gates.push(gate);
      await gate.promise;
    }
    this.processed.push(frame);
    await this.pushFrame(frame, direction);
  }
}

/** Throws (synchronously or by rejecting) on frames of one type. */
export class ThrowingProcessor extends FrameProcessor {
  constructor(
    private readonly onType: FrameType,
    private readonly mode: 'sync' | 'async',
    private readonly fatal = false,
  ) {
    super({ name: `thrower-${mode}` });
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame.type === this.onType) {
      if (this.fatal) {
        this.pushError(new Error('fatal failure'), true);
        return;
      }
      if (this.mode === 'sync') throw new Error(`sync failure on ${frame.type}`);
      return Promise.reject(new Error(`async failure on ${frame.type}`));
    }
    return this.pushFrame(frame, direction);
  }
}

export function textFrames(count: number): Frame[] {
  return Array.from({ length: count }, (_, i) => makeFrame('text', { text: `t${i}` }));
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that records every line, for assertions on what was logged. */
export function recordingLogger(records: LogRecord[] = [], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: LogRecord['level']) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === 'string') records.push({ level, message: objOrMsg, fields: { ...bindings } });
      else records.push({ level, message: msg ?? '', fields: { ...bindings, ...objOrMsg } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(records, { ...bindings, ...more }),
  };
}
