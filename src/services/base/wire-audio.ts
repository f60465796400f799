// Audio as the streaming TTS vendors send it (base64 in JSON messages, in the encoding asked for), decoded to the
// PCM16 the pipeline carries.
import { alawToPcm, bytesToInt16, float32ToInt16, mulawToPcm } from '../../audio/index.js';

/** Raw little-endian PCM16, raw little-endian float32, G.711 μ-law or G.711 A-law. */
export type WireEncoding = 's16le' | 'f32le' | 'mulaw' | 'alaw';

/** Decodes one context's audio to PCM16; a sample split across two messages is carried over. */
export class WireAudioDecoder {
  private carry = new Uint8Array(0);

  constructor(private readonly encoding: WireEncoding) {}

  decode(bytes: Uint8Array): Int16Array {
    if (this.encoding === 'mulaw') return mulawToPcm(bytes);
    if (this.encoding === 'alaw') return alawToPcm(bytes);
    const width = this.encoding === 'f32le' ? 4 : 2;
    let data = bytes;
    if (this.carry.length > 0) {
      data = new Uint8Array(this.carry.length + bytes.length);
      data.set(this.carry);
      data.set(bytes, this.carry.length);
    }
    const whole = data.length - (data.length % width);
    // Copies (a typed-array constructor copies; Buffer#slice would not): the decoded base64 may live in Node's
    // shared buffer pool, which later allocations overwrite, and the copy is aligned for the typed-array view.
    this.carry = new Uint8Array(data.subarray(whole));
    const aligned = new Uint8Array(data.subarray(0, whole));
    if (width === 2) return bytesToInt16(aligned);
    const view = new DataView(aligned.buffer);
    const floats = new Float32Array(whole / 4);
    for (let i = 0; i < floats.length; i++) floats[i] = view.getFloat32(i * 4, true);
    return float32ToInt16(floats);
  }
}
