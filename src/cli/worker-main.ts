// A worker process of `piopiy-ai start --workers N` (forked by the supervisor, see supervisor.ts): it runs the
// agent file as `piopiy-ai start` would, and its Agent takes invites over IPC (the supervisor sets PIOPIY_WORKER).
// It reports its memory every second so the supervisor can retire it past `--worker-memory-mb`, and answers the
// supervisor's liveness pings.
import { ConnectWatch, importAgentFile, prepareToImport } from './agent-file.js';
import { formatFailure } from './errors.js';
import { isSupervisorMessage, type WorkerMessage } from '../agent/ipc-invite-source.js';

const MEMORY_REPORT_MS = 1000;

const file = process.argv[2] ?? '';
const commandLine = process.argv[3] ?? `piopiy-ai start ${file}`;
const fail = (error: unknown): never => {
  process.stderr.write(`${formatFailure(error, commandLine)}\n`);
  process.exit(1);
};
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

// The supervisor's liveness ping, answered on this event loop: a worker stuck in a busy loop cannot answer, and is
// killed and replaced (supervisor.ts). Answered from the very start, so a slow agent-file import is not a hang.
process.on('message', (message: unknown) => {
  if (isSupervisorMessage(message) && message.type === 'ping' && process.connected) {
    process.send?.({ type: 'pong', seq: message.seq } satisfies WorkerMessage);
  }
});
// A 'message' listener keeps the IPC channel, and so the process, alive: an agent file that finishes without
// connecting would then never reach 'beforeExit', where ConnectWatch tells the supervisor so. The channel holds
// the process again once the Agent is connected (its invites come over it).
process.channel?.unref();

setInterval(() => {
  if (process.connected) process.send?.({ type: 'memory', rssBytes: process.memoryUsage.rss() } satisfies WorkerMessage);
}, MEMORY_REPORT_MS).unref();

const watch = new ConnectWatch();
try {
  await importAgentFile(await prepareToImport(file), file);
  await watch.untilConnected(file);
  process.channel?.ref();
} catch (error) {
  fail(error);
} finally {
  watch.close();
}
