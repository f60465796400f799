// The `piopiy-ai` command line.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import {
  DEFAULT_DEV_HOST,
  DEFAULT_DEV_PORT,
  DEMO_CARRIERS,
  DEMO_REALTIME_MODELS,
  START_TRANSPORTS,
  type DemoCarrier,
  type DemoRealtimeModel,
  type StartTransport,
} from './command-choices.js';
import type { DemoResult } from './demo.js';
import type { CarrierDemoResult } from './demo-carrier.js';
import { CliError } from './errors.js';
import { InitError, initProject, nextSteps, type PackageJsonVersions } from './init.js';
import { applyOperationsFlags, DEFAULT_OPERATIONS_PORT, type StartOperationsFlags } from './start-options.js';
import type { StartWorkerFlags } from './start-workers.js';

// Each command imports its modules when it runs (not here): a command pays only for its own graph, so `--help`,
// `init` and `start` do not load the demo's simulator, fakes and engines.

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export function packageVersion(): string {
  // src/cli/ and dist/cli/ both sit two folders below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function createProgram(): Command {
  const program = new Command('piopiy-ai')
    .description('Real-time voice AI agents on phone lines: VAD, speech-to-text, an LLM with tools, text-to-speech.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError();

  program
    .command('demo')
    .description('run an agent against the local Piopiy simulator and place one simulated call (offline, no keys)')
    .option('--agent <file>', 'the agent file to run', `${packageRoot}examples/transfer-agent.ts`)
    .addOption(new Option('--say <text>', 'a line the caller says (repeatable); default: the agent file\'s demoScenario, or asking for a human').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .option('--json', 'print one JSON summary as the last line (the transcript goes to stderr)')
    .option('--recording-dir <dir>', 'where to write the stereo WAV recording')
    .option('--timeout <secs>', 'longest the call may take', '60')
    .option('--expect-transfer', 'fail unless the call ends in a transfer (default: when a --say line asks for a person)')
    .option('--no-expect-transfer', 'fail if the call is transferred')
    .addOption(new Option('--realtime <model>', 'a speech-to-speech model as the brain, against its offline fake (agent: examples/realtime-agent.ts)').choices(DEMO_REALTIME_MODELS))
    .addOption(new Option('--media <path>', 'the call\'s media: a LiveKit room over real WebRTC (the production path), or the simulator\'s stream (no WebRTC)').choices(['livekit', 'stream']).default('livekit'))
    .addOption(new Option('--carrier <name>', 'place the seed call through a fake carrier\'s media stream instead (the built-in seed agent)').choices(DEMO_CARRIERS))
    .action(async (opts: { agent: string; say?: string[]; json?: boolean; recordingDir?: string; timeout: string; expectTransfer?: boolean; realtime?: DemoRealtimeModel; carrier?: DemoCarrier; media: 'stream' | 'livekit' }) => {
      const json = opts.json === true;
      const print = (line: string): void => void (json ? process.stderr : process.stdout).write(`${line}\n`);
      const progress = (line: string): void => void process.stderr.write(`… ${line}\n`);
      let result: DemoResult | CarrierDemoResult;
      if (opts.carrier !== undefined) {
        const { runCarrierDemo } = await import('./demo-carrier.js');
        result = await runCarrierDemo({ carrier: opts.carrier, recordingDir: opts.recordingDir, timeoutSecs: Number(opts.timeout), out: print, progress });
      } else {
        const defaultAgent = `${packageRoot}examples/transfer-agent.ts`;
        const chosen = opts.realtime !== undefined && opts.agent === defaultAgent ? `${packageRoot}examples/realtime-agent.ts` : opts.agent;
        const { prepareToImport } = await import('./agent-file.js');
        const agentFile = await prepareToImport(chosen);
        const { runDemo } = await import('./demo.js');
        result = await runDemo({
          agentFile,
          say: opts.say,
          json,
          recordingDir: opts.recordingDir,
          timeoutSecs: Number(opts.timeout),
          expectTransfer: opts.expectTransfer,
          realtime: opts.realtime,
          media: opts.media,
          out: print,
          progress,
        });
      }
      if (result.recording !== null) print(`recording: ${result.recording}`);
      if (result.transferredTo !== null) print(`transferred to ${result.transferredTo}`);
      if (!result.ok) process.stderr.write(`demo failed: ${result.reason ?? 'unknown reason'}\n`);
      if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exitCode = result.ok ? 0 : 1;
    });

  program
    .command('dev')
    .description('a browser softphone on the local Piopiy simulator: call your agent with your microphone (offline, no keys)')
    .argument('[agent-file]', 'the agent file to run', `${packageRoot}examples/transfer-agent.ts`)
    .option('--port <port>', 'port to serve the page on (0: any free port)', String(DEFAULT_DEV_PORT))
    .option('--host <addr>', 'address to listen on; any but loopback requires the printed access token', DEFAULT_DEV_HOST)
    .addOption(new Option('--media <path>', 'the call\'s media to the agent: the simulator\'s stream, or a LiveKit room over real WebRTC (the production path; this server joins the room as the caller and relays the page\'s microphone, the browser itself does not join it)').choices(['stream', 'livekit']).default('stream'))
    .action(async (file: string, opts: { port: string; host: string; media: 'stream' | 'livekit' }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number (0 to 65535), got ${opts.port}`);
      const { prepareToImport } = await import('./agent-file.js');
      const agentFile = await prepareToImport(file);
      const { startDevServer } = await import('./dev.js');
      const server = await startDevServer({
        agentFile,
        port,
        host: opts.host,
        media: opts.media,
        progress: (line) => process.stderr.write(`… ${line}\n`),
      });
      process.stdout.write(`piopiy-ai dev: open ${server.url}\n`);
      if (server.token !== undefined) {
        process.stdout.write('  (listening beyond loopback: every request needs that token; browsers allow the microphone only on\n');
        process.stdout.write('   https or localhost pages, so from another machine use an SSH tunnel to localhost instead)\n');
      }
      const failed = await server.agentReady.then(
        () => false,
        () => true,
      );
      if (failed) {
        await server.close();
        process.exit(1);
      }
      await new Promise<void>((resolveSignal) => {
        process.once('SIGINT', resolveSignal);
        process.once('SIGTERM', resolveSignal);
      });
      process.stderr.write('… stopping\n');
      await Promise.race([server.close(), new Promise((r) => setTimeout(r, 3000))]);
      process.exit(0);
    });

  program
    .command('start')
    .description('serve real Piopiy calls with an agent file (needs AGENT_ID and AGENT_TOKEN)')
    .argument('<agent-file>', 'the agent file (it creates an Agent and connects it)')
    .option('--operations-port <port>', `port of /healthz, /readyz and /metrics (0: none; default ${DEFAULT_OPERATIONS_PORT}, or PIOPIY_OPERATIONS_PORT)`)
    .option('--operations-host <addr>', 'address those endpoints listen on (default 0.0.0.0, or PIOPIY_OPERATIONS_HOST)')
    .option('--workers <n>', 'worker processes sharing the calls (default: one per core; 1: the agent runs in this process)')
    .option('--worker-memory-mb <mb>', "a worker past this resident memory ends its calls with an apology and is replaced")
    .option('--worker-ping-ms <ms>', 'how often the supervisor pings each worker (default 5000)')
    .option('--worker-timeout-ms <ms>', "a worker that answers no ping this long is killed (its calls end) and replaced (default 15000)")
    .option('--worker-start-timeout-ms <ms>', 'a worker not serving this long after it started (its agent file hangs while loading) is killed and replaced (default 120000)')
    .addOption(new Option('--transport <carrier>', "serve a carrier's webhook and media stream instead (the file exports onCall; credentials from the environment, docs/carriers.md)").choices(START_TRANSPORTS))
    .option('--port <port>', 'with --transport: the port the webhook and stream are served on', '8080')
    .action(async (file: string, opts: StartOperationsFlags & StartWorkerFlags & { transport?: StartTransport; port: string }) => {
      const { ConnectWatch, importAgentFile, prepareToImport } = await import('./agent-file.js');
      if (opts.transport !== undefined) {
        const { parsePort, startCarrier } = await import('./start-carrier.js');
        const { server, origin } = await startCarrier(await prepareToImport(file), file, { transport: opts.transport, port: parsePort(opts.port) });
        process.stdout.write(`piopiy-ai start: ${opts.transport} on ${origin}; ${server.setup(process.env.PUBLIC_URL || origin)}\n`);
        await new Promise<void>((resolveSignal) => {
          process.once('SIGINT', resolveSignal);
          process.once('SIGTERM', resolveSignal);
        });
        await Promise.race([server.close(), new Promise((r) => setTimeout(r, 5000))]);
        return;
      }
      applyOperationsFlags(opts);
      const { parseWorkerFlags, runSupervisor } = await import('./start-workers.js');
      const workers = parseWorkerFlags(opts);
      if (workers.workers > 1) return runSupervisor(file, workers);
      const path = await prepareToImport(file);
      const watch = new ConnectWatch();
      try {
        await importAgentFile(path, file);
        await watch.untilConnected(file);
      } finally {
        watch.close();
      }
    });

  program
    .command('init')
    .description('create a new agent project in <dir>: agent.ts, its test, package.json, tsconfig.json, .env.example')
    .argument('<dir>', 'the folder to create (new or empty)')
    .option('--package <spec>', 'the piopiy-ai to install there: a version range, or a tarball or folder path (default: ^this version)')
    .action((dir: string, opts: { package?: string }) => {
      const ownPackageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJsonVersions;
      try {
        const result = initProject({ dir, version: packageVersion(), packageSpec: opts.package, ownPackageJson });
        process.stdout.write(nextSteps(result, dir));
      } catch (error) {
        if (!(error instanceof InitError)) throw error;
        process.stderr.write(`piopiy-ai init: ${error.message}\n`);
        process.exitCode = 1;
      }
    });

  return program;
}
