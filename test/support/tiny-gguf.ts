// A tiny llama-architecture GGUF (v3) with random weights, for the LlamaCppLLMService tests: llama.cpp loads and runs
// it like any model, so loading, streaming, aborting and grammar-constrained generation are exercised for real. Its
// text is meaningless (the weights are noise). The format and the keys llama.cpp reads are in docs/vendors/llamacpp.md.
import { writeFileSync } from 'node:fs';
import { createSeededRandom } from '../../src/testing/random.js';

/** GGUF metadata value types (gguf-py `GGUFValueType`). */
const enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  STRING = 8,
  ARRAY = 9,
}
/** ggml tensor type F32 (`GGMLQuantizationType.F32`). */
const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;

/** Token types of `tokenizer.ggml.token_type` (llama.cpp `llama_token_type`). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

type MetadataValue =
  | { type: ValueType.UINT32 | ValueType.INT32 | ValueType.FLOAT32; value: number }
  | { type: ValueType.STRING; value: string }
  | { type: ValueType.ARRAY; items: ValueType.STRING; value: readonly string[] }
  | { type: ValueType.ARRAY; items: ValueType.FLOAT32 | ValueType.INT32; value: readonly number[] };

export interface TinyModelShape {
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly headCount: number;
  readonly feedForwardLength: number;
  readonly contextLength: number;
}

export const TINY_MODEL: TinyModelShape = { embeddingLength: 64, blockCount: 2, headCount: 4, feedForwardLength: 128, contextLength: 2048 };

/** <unk>, <s>, </s>, then the 256 byte tokens <0x00>..<0xFF>: SentencePiece byte fallback tokenizes any text. */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_BYTE);
  }
  // One normal piece so the vocabulary is not all bytes: the SentencePiece word separator.
  tokens.push('\u2581');
  types.push(TOKEN_NORMAL);
  return { tokens, scores: tokens.map(() => 0), types };
}

class ByteWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;
  private push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }
  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }
  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }
  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  bytes(buffer: Buffer): void {
    this.push(buffer);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
  result(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(out: ByteWriter, v: MetadataValue): void {
  out.u32(v.type);
  switch (v.type) {
    case ValueType.UINT32:
      out.u32(v.value);
      return;
    case ValueType.INT32:
      out.i32(v.value);
      return;
    case ValueType.FLOAT32:
      out.f32(v.value);
      return;
    case ValueType.STRING:
      out.string(v.value);
      return;
    case ValueType.ARRAY:
      out.u32(v.items);
      out.u64(v.value.length);
      if (v.items === ValueType.STRING) for (const s of v.value) out.string(s);
      else if (v.items === ValueType.FLOAT32) for (const n of v.value) out.f32(n);
      else for (const n of v.value) out.i32(n);
      return;
  }
}

interface Tensor {
  readonly name: string;
  /** ggml order: dims[0] is the contiguous (innermost) one. */
  readonly dims: readonly number[];
  readonly fill: 'random' | 'ones';
}

/** The GGUF bytes of a random-weight llama model with the byte-level vocabulary. */
export function tinyLlamaGguf(shape: TinyModelShape = TINY_MODEL, seed = 1): Buffer {
  const { embeddingLength: n, blockCount, headCount, feedForwardLength: ff, contextLength } = shape;
  const vocab = vocabulary();
  const u32 = (value: number): MetadataValue => ({ type: ValueType.UINT32, value });
  const metadata: Array<[string, MetadataValue]> = [
    ['general.architecture', { type: ValueType.STRING, value: 'llama' }],
    ['general.name', { type: ValueType.STRING, value: 'piopiy-ai test model (random weights)' }],
    ['general.alignment', u32(ALIGNMENT)],
    ['llama.context_length', u32(contextLength)],
    ['llama.embedding_length', u32(n)],
    ['llama.block_count', u32(blockCount)],
    ['llama.feed_forward_length', u32(ff)],
    ['llama.rope.dimension_count', u32(n / headCount)],
    ['llama.attention.head_count', u32(headCount)],
    ['llama.attention.head_count_kv', u32(headCount)],
    ['llama.attention.layer_norm_rms_epsilon', { type: ValueType.FLOAT32, value: 1e-5 }],
    ['llama.vocab_size', u32(vocab.tokens.length)],
    ['tokenizer.ggml.model', { type: ValueType.STRING, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: ValueType.ARRAY, items: ValueType.STRING, value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: ValueType.ARRAY, items: ValueType.FLOAT32, value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: ValueType.ARRAY, items: ValueType.INT32, value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
  ];
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [n, vocab.tokens.length], fill: 'random' },
    { name: 'output_norm.weight', dims: [n], fill: 'ones' },
    { name: 'output.weight', dims: [n, vocab.tokens.length], fill: 'random' },
  ];
  for (let i = 0; i < blockCount; i++) {
    tensors.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [n], fill: 'ones' },
      { name: `blk.${i}.attn_q.weight`, dims: [n, n], fill: 'random' },
      { name: `blk.${i}.attn_k.weight`, dims: [n, n], fill: 'random' },
      { name: `blk.${i}.attn_v.weight`, dims: [n, n], fill: 'random' },
      { name: `blk.${i}.attn_output.weight`, dims: [n, n], fill: 'random' },
      { name: `blk.${i}.ffn_norm.weight`, dims: [n], fill: 'ones' },
      { name: `blk.${i}.ffn_gate.weight`, dims: [n, ff], fill: 'random' },
      { name: `blk.${i}.ffn_up.weight`, dims: [n, ff], fill: 'random' },
      { name: `blk.${i}.ffn_down.weight`, dims: [ff, n], fill: 'random' },
    );
  }

  const out = new ByteWriter();
  out.bytes(Buffer.from('GGUF', 'latin1'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }
  const next = createSeededRandom(seed); // seeded: every run writes the same model
  const data = tensors.map((tensor) => {
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = tensor.fill === 'ones' ? 1 : (next() * 2 - 1) * 0.5;
    // The output rows of <unk>, <s> and </s> are zero: their logit is 0 while the likeliest of the 257 random ones is
    // positive, so greedy decoding never ends early with </s> and answers are exactly maxTokens long.
    if (tensor.name === 'output.weight') values.fill(0, 0, 3 * n);
    return Buffer.from(values.buffer);
  });
  let offset = 0;
  tensors.forEach((tensor, i) => {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += Math.ceil(data[i]!.length / ALIGNMENT) * ALIGNMENT;
  });
  out.padTo(ALIGNMENT);
  for (const bytes of data) {
    out.bytes(bytes);
    out.padTo(ALIGNMENT);
  }
  return out.result();
}

/** Writes the tiny model to `path`; returns its size in bytes. */
export function writeTinyLlamaGguf(path: string, shape?: TinyModelShape, seed?: number): number {
  const bytes = tinyLlamaGguf(shape, seed);
  writeFileSync(path, bytes);
  return bytes.length;
}
