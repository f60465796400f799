// The `piopiy-ai` command line. Subcommands arrive with the features they run (demo, dev, start).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

export function packageVersion(): string {
  // src/cli/ and dist/cli/ both sit two folders below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function createProgram(): Command {
  return new Command('piopiy-ai')
    .description('Real-time voice AI agents on phone lines: VAD, speech-to-text, an LLM with tools, text-to-speech.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError();
}
