// Twilio's REST API for the calls our streams serve: hang up and transfer (docs/carriers.md, "REST").
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { dialTwiml } from './twiml.js';

export interface TwilioCredentials {
  /** The account's SID (AC...). */
  accountSid: string;
  /** The account's auth token: signs Twilio's requests and authenticates ours. Never logged. */
  authToken: string;
  /** Default https://api.twilio.com (a fake's URL in tests). */
  apiBaseUrl?: string;
}

/** A REST request Twilio refused. */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(`Twilio API ${status}${code === undefined ? '' : ` (${code})`}: ${message}`);
    this.name = 'TwilioApiError';
  }
}

export class TwilioCalls {
  private readonly credentials: TwilioCredentials;
  private readonly logger: Logger;

  constructor(credentials: TwilioCredentials, logger?: Logger) {
    if (!/^AC[0-9a-zA-Z]{8,}$/.test(credentials.accountSid ?? '')) throw new TypeError('Twilio: accountSid must be an account SID (AC...)');
    if (typeof credentials.authToken !== 'string' || credentials.authToken === '') throw new TypeError('Twilio: authToken is required');
    this.credentials = credentials;
    this.logger = logger ?? getDefaultLogger();
  }

  /** Ends the call (`Status=completed`). */
  async hangUp(callSid: string): Promise<void> {
    await this.update(callSid, { Status: 'completed' });
  }

  /** Replaces the call's TwiML with a `<Dial>` to `to`: the stream stops and the caller is connected to `to`. */
  async transfer(callSid: string, to: string, options: { callerId?: string } = {}): Promise<void> {
    await this.update(callSid, { Twiml: dialTwiml(to, options) });
  }

  /** POSTs `params` to the call resource. */
  async update(callSid: string, params: Readonly<Record<string, string>>): Promise<unknown> {
    if (!/^CA[0-9a-zA-Z]{8,}$/.test(callSid)) throw new TypeError(`Twilio: not a call SID: ${JSON.stringify(callSid).slice(0, 40)}`);
    const { accountSid, authToken } = this.credentials;
    const base = (this.credentials.apiBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
    const url = `${base}/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = body as { code?: number; message?: string } | undefined;
      this.logger.warn({ status: response.status, code: error?.code, callSid }, 'Twilio refused a call update');
      throw new TwilioApiError(response.status, error?.code, error?.message ?? text.slice(0, 200));
    }
    return body;
  }
}
