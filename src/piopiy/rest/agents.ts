// AI-agent management (Piopiy docs "AI Agents", REST option): create an agent, list them, delete one, and route
// a purchased number to an agent. These live on the management API, `https://api.piopiy.com/v1`, not on the v3
// call API. Response bodies are returned parsed: the docs show examples (`{ id, name, status, agent_token }` for
// a new agent), not a schema. The response of `create` holds the agent's token: it is a secret, never logged.
import type { HttpTransport } from './http.js';
import { compact, normalizePhone } from './normalize.js';
import { validateCreateAgentBody, validatePathId, validateRouteNumberBody } from './call-control-validation.js';
import type { PiopiyResponse } from './types.js';

export interface CreateAgentInput {
  name: string;
  /** e.g. `en-US`. */
  language?: string;
}

export interface CreateAgentBody {
  name: string;
  language?: string;
}

export interface RouteNumberInput {
  /** A purchased number, as people write it (`+1 949-980-0001`); sent as E.164 with `+`, as the docs show. */
  phoneNumber: string;
  agentId: string;
}

export interface RouteNumberBody {
  phone_number: string;
  route_type: 'ai_agent';
  agent_id: string;
}

export const DEFAULT_MANAGEMENT_BASE_URL = 'https://api.piopiy.com/v1';

export class AgentsApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /** Creates an AI agent (`POST /ai-agents`). The answer carries its id and token. */
  async create(input: CreateAgentInput): Promise<PiopiyResponse> {
    // Unknown keys are passed on so the validator names them (as the other methods do).
    const body = validateCreateAgentBody(compact({ ...input }));
    // Not retried after it may have been sent: a second create would make a second agent.
    return this.http.request('POST', '/ai-agents', body, 'unsent-only');
  }

  /** The workspace's agents (`GET /ai-agents`). */
  async list(): Promise<PiopiyResponse> {
    return this.http.request('GET', '/ai-agents', undefined, 'unsent-or-rate-limited');
  }

  /**
   * Deletes an agent (`DELETE /ai-agents/{id}`). The docs name the operation without showing its request; the
   * path is the REST form of the create and list paths.
   */
  async delete(agentId: string): Promise<PiopiyResponse> {
    const id = validatePathId(agentId, 'agentId');
    return this.http.request('DELETE', `/ai-agents/${encodeURIComponent(id)}`, undefined, 'unsent-only');
  }

  /** Routes calls to a purchased number to an agent (`POST /phone-number-routing`, `route_type: ai_agent`). */
  async routeNumber(input: RouteNumberInput): Promise<PiopiyResponse> {
    const { phoneNumber, agentId, ...unknownKeys } = input;
    const digits = normalizePhone(phoneNumber);
    const body = validateRouteNumberBody(
      compact({ ...unknownKeys, phone_number: typeof digits === 'string' ? `+${digits}` : digits, route_type: 'ai_agent', agent_id: agentId }),
    );
    return this.http.request('POST', '/phone-number-routing', body, 'unsent-only');
  }
}
