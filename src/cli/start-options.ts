// `piopiy-ai start`'s operations flags. The agent file builds its own Agent, so the CLI cannot pass options to it:
// it sets the environment the Agent reads (PIOPIY_OPERATIONS_PORT / _HOST) before importing the file. A variable
// the user already set wins over the flags' defaults, never over a flag they typed.
import { CliError } from './errors.js';

/** The port `piopiy-ai start` serves /healthz, /readyz and /metrics on (LiveKit's workers use 8081 too). */
export const DEFAULT_OPERATIONS_PORT = 8081;

export interface StartOperationsFlags {
  /** The typed value, or undefined when the flag was not given. */
  operationsPort?: string;
  operationsHost?: string;
}

export function applyOperationsFlags(flags: StartOperationsFlags, env: NodeJS.ProcessEnv = process.env): void {
  if (flags.operationsPort !== undefined) {
    const port = Number(flags.operationsPort);
    if (!/^\d+$/.test(flags.operationsPort) || port > 65535) {
      throw new CliError(`--operations-port must be a port number (1 to 65535, or 0 for none), got ${flags.operationsPort}`);
    }
    env.PIOPIY_OPERATIONS_PORT = port === 0 ? 'off' : String(port);
  } else {
    env.PIOPIY_OPERATIONS_PORT ??= String(DEFAULT_OPERATIONS_PORT);
  }
  // In a container the probes come from outside the process's loopback.
  if (flags.operationsHost !== undefined) env.PIOPIY_OPERATIONS_HOST = flags.operationsHost;
  else env.PIOPIY_OPERATIONS_HOST ??= '0.0.0.0';
}
