// The part of onnxruntime-common's API that Silero uses, declared here because it runs on two packages of two
// versions (onnxruntime-node 1.17.0, which ships no type declarations, and onnxruntime-web 1.30), whose own types
// are separate copies of onnxruntime-common. Both packages' objects have this shape.

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtTensorConstructor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensor;
}

export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>>;
  release(): Promise<void>;
}

/** Session options Silero sets (a subset of onnxruntime-common's `InferenceSession.SessionOptions`). */
export interface OrtSessionOptions {
  readonly executionProviders?: readonly string[];
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
  readonly executionMode?: 'sequential' | 'parallel';
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** 0 verbose ... 3 error, 4 fatal. */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface OrtSessionFactory {
  create(modelPath: string, options: OrtSessionOptions): Promise<OrtSession>;
}
