// A local stand-in for Amazon Bedrock Runtime's ConverseStream (`POST /model/{modelId}/converse-stream`), over a
// real HTTP socket, so the production client is what gets tested. It checks requests as AWS documents them: SigV4
// in the `Authorization` header recomputed with the key's secret (403 `UnrecognizedClientException`,
// `InvalidSignatureException`, `ExpiredTokenException`: aws-auth.ts), the model id, and the Converse body (a user turn
// first, roles alternating, no blank text, toolUse / toolResult only with a toolConfig and every toolUse answered
// in the next turn, tool names, inference parameters in range), refusing with 400 `ValidationException`. It answers
// with an event stream (`application/vnd.amazon.eventstream`) in AWS's order — messageStart, text deltas,
// contentBlockStart / toolUse input pieces / contentBlockStop per tool, messageStop, metadata — each message's bytes
// split across socket writes, each event padded with the `p` field Bedrock adds. Scriptable failures: HTTP errors
// with `x-amzn-ErrorType` (no Retry-After: Bedrock does not document one), an exception message mid-stream, a
// dropped connection, a stall. Facts: docs/vendors/aws.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeEventStreamMessage } from '../../services/aws/event-stream.js';
import { createSeededRandom } from '../random.js';
import { verifyAwsHeaderSignature, type FakeAwsAuthPolicy } from './aws-auth.js';
import type { FakeKeyPolicy } from './auth.js';
import { isRecord, parseJSONBody, startFakeHttpServer, untilClosed } from './http.js';
import { ResponseScript, estimateTokens, textPieces } from './llm.js';
import { readBody, recordHeaders, writeSplit } from './sse.js';
import { validateConverseBody, BedrockValidationError } from './bedrock-validation.js';

export interface FakeBedrockToolUse {
  name: string;
  /** An object is sent as its JSON text, in pieces. */
  input: object;
  id?: string;
}

export type FakeBedrockStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'guardrail_intervened' | 'content_filtered';

export type FakeBedrockResponse =
  /** Text in deltas of `chunkSize` characters (random 1-8 when absent). */
  | { text: string; chunkSize?: number; stopReason?: FakeBedrockStopReason; usage?: { inputTokens: number; outputTokens: number } }
  /** toolUse blocks (after a text block when `text` is given). */
  | { toolUses: readonly FakeBedrockToolUse[]; text?: string; usage?: { inputTokens: number; outputTokens: number } }
  /** An HTTP refusal with Bedrock's error type for the status (401 is answered as AWS does: 403 UnrecognizedClient). */
  | { error: 400 | 401 | 403 | 404 | 408 | 424 | 429 | 500 | 503; message?: string }
  /** Streams `text`, then an exception message (default `modelStreamErrorException`), then ends. */
  | { streamException: string; text?: string; message?: string }
  /** Streams a text answer and destroys the socket after `dropAfterEvents` events. */
  | { dropAfterEvents: number; text?: string }
  /** Sends the 200 and the headers, then nothing until the client goes away. */
  | { stall: true };

export interface FakeBedrockRequest {
  readonly path: string;
  /** The model id from the path, decoded. */
  readonly model: string;
  /** Lower-case header names; `authorization` and `x-amz-security-token` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  readonly body: unknown;
  status?: number;
  errorType?: string;
}

export interface FakeBedrockOptions extends FakeKeyPolicy {
  /** The secret every accepted access key id signs with. Default 'fake-bedrock-secret'. */
  secretAccessKey?: string;
  /** A session token refused as expired. */
  expiredSessionToken?: string;
  /** When set, other model ids are refused (400 ValidationException, as Bedrock refuses an unknown id). */
  models?: readonly string[];
  /** Pause between event messages in ms. Default 0 (one event-loop turn). */
  eventDelayMs?: number;
  seed?: number;
}

export interface FakeBedrock {
  /** `http://127.0.0.1:<port>`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeBedrockRequest[];
  /** Queues answers, one per valid request, before the handler. */
  enqueue(...responses: FakeBedrockResponse[]): void;
  respondWith(handler: (body: Record<string, unknown>, request: FakeBedrockRequest) => FakeBedrockResponse | Promise<FakeBedrockResponse>): void;
  close(): Promise<void>;
}

const ERRORS: Readonly<Record<number, { status: number; type: string; message: string }>> = {
  400: { status: 400, type: 'ValidationException', message: 'Malformed input request, please reformat your input and try again.' },
  401: { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
  403: { status: 403, type: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." },
  404: { status: 404, type: 'ResourceNotFoundException', message: 'Could not resolve the foundation model from the provided model identifier.' },
  408: { status: 408, type: 'ModelTimeoutException', message: 'Model has timed out in processing the request.' },
  424: { status: 424, type: 'ModelErrorException', message: 'The model returned an error.' },
  429: { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
  500: { status: 500, type: 'InternalServerException', message: 'The server encountered an internal error.' },
  503: { status: 503, type: 'ServiceUnavailableException', message: 'The service is temporarily unable to handle the request.' },
};

class FakeServer {
  readonly requests: FakeBedrockRequest[] = [];
  readonly script = new ResponseScript<Record<string, unknown>, FakeBedrockRequest, FakeBedrockResponse>();
  private readonly random: () => number;
  private toolIds = 0;

  constructor(private readonly options: FakeBedrockOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  private get auth(): FakeAwsAuthPolicy {
    const { rejectKey, requireKey, expiredSessionToken } = this.options;
    return { rejectKey, requireKey, expiredSessionToken, secretAccessKey: this.options.secretAccessKey ?? 'fake-bedrock-secret', service: 'bedrock' };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const raw = await readBody(req);
    const match = /^\/model\/([^/]+)\/converse-stream$/.exec(url.pathname);
    const refusal = verifyAwsHeaderSignature(this.auth, { method: req.method ?? 'POST', url, headers: req.headers, body: raw });
    const { body, parsed } = parseJSONBody(raw, false);
    const record: FakeBedrockRequest = {
      path: url.pathname,
      model: match === null ? '' : decodeURIComponent(match[1] ?? ''),
      headers: recordHeaders(req, ['authorization', 'x-amz-security-token']),
      auth: { present: req.headers.authorization !== undefined, valid: refusal === undefined },
      body,
    };
    this.requests.push(record);
    const fail = (status: number, type: string, message: string): void => {
      record.status = status;
      record.errorType = type;
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': this.requestId() });
      res.end(JSON.stringify({ message }));
    };
    if (req.method !== 'POST' || match === null) return fail(404, 'UnknownOperationException', 'Unknown operation');
    if (refusal !== undefined) return fail(refusal.status, refusal.type, refusal.message);
    if (this.options.models !== undefined && !this.options.models.includes(record.model)) return fail(400, 'ValidationException', 'The provided model identifier is invalid.');
    if (!parsed || !isRecord(body)) return fail(400, 'SerializationException', 'The request body is not valid JSON.');
    try {
      validateConverseBody(body);
    } catch (error) {
      if (error instanceof BedrockValidationError) return fail(400, 'ValidationException', error.message);
      throw error;
    }
    const answer = await this.script.next(body, record, { text: 'Hello from the fake Bedrock server.' });
    if ('error' in answer) {
      const spec = ERRORS[answer.error] ?? ERRORS[500]!;
      return fail(spec.status, spec.type, answer.message ?? spec.message);
    }
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': this.requestId(), 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if ('stall' in answer) return untilClosed(res);
    await this.stream(answer, body, res);
  }

  private requestId(): string {
    return [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => Math.floor(this.random() * 16).toString(16)).join('')).join('-');
  }

  /** Bedrock pads every event with `p` (letters whose length varies) so sizes do not reveal the tokens. */
  private padded(payload: Record<string, unknown>): Record<string, unknown> {
    return { ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 1 + Math.floor(this.random() * 50)) };
  }

  private events(answer: Exclude<FakeBedrockResponse, { error: number } | { stall: true }>, body: Record<string, unknown>): Buffer[] {
    const event = (type: string, payload: Record<string, unknown>): Buffer =>
      encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(this.padded(payload))));
    const out = [event('messageStart', { role: 'assistant' })];
    const text = 'text' in answer ? (answer.text ?? '') : '';
    let index = 0;
    if (text !== '') {
      const size = 'chunkSize' in answer ? answer.chunkSize : undefined;
      for (const piece of textPieces(text, this.random, size)) out.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
      out.push(event('contentBlockStop', { contentBlockIndex: index }));
      index += 1;
    }
    if ('streamException' in answer) {
      out.push(
        encodeEventStreamMessage(
          { ':exception-type': answer.streamException, ':content-type': 'application/json', ':message-type': 'exception' },
          Buffer.from(JSON.stringify({ message: answer.message ?? 'The model stream failed.' })),
        ),
      );
      return out;
    }
    const toolUses = 'toolUses' in answer ? answer.toolUses : [];
    for (const tool of toolUses) {
      const id = tool.id ?? `tooluse_${(++this.toolIds).toString(36).padStart(6, '0')}`;
      out.push(event('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: id, name: tool.name } } }));
      for (const piece of textPieces(JSON.stringify(tool.input), this.random)) out.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }));
      out.push(event('contentBlockStop', { contentBlockIndex: index }));
      index += 1;
    }
    const stopReason = toolUses.length > 0 ? 'tool_use' : 'stopReason' in answer && answer.stopReason !== undefined ? answer.stopReason : 'end_turn';
    out.push(event('messageStop', { stopReason }));
    const usage = ('usage' in answer ? answer.usage : undefined) ?? { inputTokens: estimateTokens(JSON.stringify(body.messages)), outputTokens: estimateTokens(text) };
    out.push(event('metadata', { usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens }, metrics: { latencyMs: 120 } }));
    return out;
  }

  private async stream(answer: Exclude<FakeBedrockResponse, { error: number } | { stall: true }>, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const messages = this.events(answer, body);
    const dropAfter = 'dropAfterEvents' in answer ? answer.dropAfterEvents : undefined;
    for (const [sent, message] of messages.entries()) {
      if (dropAfter !== undefined && sent >= dropAfter) {
        res.socket?.destroy();
        return;
      }
      if (!(await writeSplit(res, message, { random: this.random }))) return;
      await new Promise((resolve) => (this.options.eventDelayMs ? setTimeout(resolve, this.options.eventDelayMs) : setImmediate(resolve)));
    }
    res.end();
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeBedrock(options: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException:' }).end(JSON.stringify({ message: 'fake failure' })),
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests: fake.requests,
    enqueue: (...responses) => fake.script.enqueue(responses),
    respondWith: (handler) => fake.script.respondWith(handler),
    close,
  };
}
