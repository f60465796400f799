// @livekit/rtc-node (1.1.0) logs through a pino logger of its own, to stdout, at debug level unless NODE_ENV is
// 'production' (its dist/log.cjs): every room connection prints "Connect callback received". The demo's stdout is
// the transcript, and with --json exactly one JSON line, so there that logger is lowered to info (its warnings
// stay). The module is not in the package's exports; a layout we do not know leaves the logger as it is.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function quietRtcNodeDebugLogs(): void {
  try {
    const require = createRequire(import.meta.url);
    // The ESM entry re-exports the CommonJS one, so this is the logger instance the room uses.
    const { log } = require(join(dirname(require.resolve('@livekit/rtc-node')), 'log.cjs')) as { log?: { level: string } };
    if (log !== undefined && (log.level === 'debug' || log.level === 'trace')) log.level = 'info';
  } catch {
    // not found where 1.1.0 keeps it: the debug lines stay
  }
}
