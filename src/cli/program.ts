// The `piopiy-ai` command line.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { runDemo } from './demo.js';
import { DEFAULT_DEV_HOST, DEFAULT_DEV_PORT, startDevServer } from './dev.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export function packageVersion(): string {
  // src/cli/ and dist/cli/ both sit two folders below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** TypeScript agent files run through tsx's loader when the CLI itself runs as compiled JavaScript. */
async function prepareToImport(file: string): Promise<string> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`agent file not found: ${file}`);
  if (/\.[mc]?ts$/.test(path) && !process.execArgv.some((a) => a.includes('tsx'))) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return path;
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
    .action(async (opts: { agent: string; say?: string[]; json?: boolean; recordingDir?: string; timeout: string; expectTransfer?: boolean }) => {
      const json = opts.json === true;
      const print = (line: string): void => void (json ? process.stderr : process.stdout).write(`${line}\n`);
      const agentFile = await prepareToImport(opts.agent);
      const result = await runDemo({
        agentFile,
        say: opts.say,
        json,
        recordingDir: opts.recordingDir,
        timeoutSecs: Number(opts.timeout),
        expectTransfer: opts.expectTransfer,
        out: print,
        progress: (line) => process.stderr.write(`… ${line}\n`),
      });
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
    .action(async (file: string, opts: { port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${opts.port}`);
      const agentFile = await prepareToImport(file);
      const server = await startDevServer({
        agentFile,
        port,
        host: opts.host,
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
    .action(async (file: string) => {
      const path = await prepareToImport(file);
      await import(pathToFileURL(path).href);
    });

  return program;
}
