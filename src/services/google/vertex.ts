// GoogleVertexLLMService: Gemini through Vertex AI — the Gemini client (llm.ts: same request body, same SSE stream)
// sent to `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/
// google/models/{model}:streamGenerateContent?alt=sse` (`aiplatform.googleapis.com` for the `global` location),
// with `Authorization: Bearer <token>` from a function you supply (google-auth-library's `getAccessToken()`, a
// metadata-server fetch...): no Google SDK is added, and the token is asked for before every request, so its
// refreshing stays the supplier's. Errors name 'Vertex AI'. Facts and sources: docs/vendors/google-vertex.md.
import { ServiceError } from '../base/index.js';
import { redactSecrets } from '../base/vendor-errors.js';
import { GoogleLLMService, type GoogleLLMServiceOptions } from './llm.js';

export const VERTEX_SERVICE = 'Vertex AI';

export interface GoogleVertexLLMServiceOptions extends Omit<GoogleLLMServiceOptions, 'apiKey' | 'baseURL'> {
  /** The Google Cloud project id (`GOOGLE_CLOUD_PROJECT`). */
  project: string;
  /** 'us-central1', 'asia-south1' (Mumbai), 'global', ... (`GOOGLE_CLOUD_LOCATION`). Default 'us-central1'. */
  location?: string;
  /** An OAuth access token for the `cloud-platform` scope, asked for before every request. */
  getAccessToken: () => string | Promise<string>;
  /** Replaces `https://{location}-aiplatform.googleapis.com` (a private endpoint, a proxy, the fake). */
  baseURL?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/i;

export class GoogleVertexLLMService extends GoogleLLMService {
  readonly project: string;
  readonly location: string;

  constructor(options: GoogleVertexLLMServiceOptions) {
    const name = new.target.name;
    const project = options.project?.trim() ?? '';
    const location = options.location?.trim() ?? 'us-central1';
    if (!NAME.test(project)) throw new TypeError(`${name}: project is required (e.g. { project: process.env.GOOGLE_CLOUD_PROJECT }), got ${JSON.stringify(options.project)}`);
    if (!NAME.test(location)) throw new TypeError(`${name}: location must be a Vertex AI location such as 'us-central1', got ${JSON.stringify(options.location)}`);
    if (typeof options.getAccessToken !== 'function') throw new TypeError(`${name}: getAccessToken is required (a function returning an OAuth access token)`);
    const host = options.baseURL ?? (location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`);
    const base = `${host.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/publishers/google/models`;
    const { getAccessToken } = options;
    super(options, {
      service: VERTEX_SERVICE,
      endpoint: (model) => `${base}/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`,
      auth: async () => {
        let token: string;
        try {
          token = String(await getAccessToken()).trim();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new ServiceError(VERTEX_SERVICE, `getAccessToken failed: ${redactSecrets(message, [])}`, { code: 'auth', retryable: false });
        }
        if (token === '') throw new ServiceError(VERTEX_SERVICE, 'getAccessToken returned an empty token', { code: 'auth', retryable: false });
        return { headers: { authorization: `Bearer ${token}` }, secret: token };
      },
    });
    this.project = project;
    this.location = location;
  }
}
