// Types of scripts/api-report.mjs for the test that imports it (the script itself stays plain JavaScript).
export interface EntryPoint {
  /** The specifier users import, e.g. `piopiy-ai/services/openai`. */
  name: string;
  /** The source file behind it, relative to the repository root. */
  file: string;
}

export function entryPoints(root: string): EntryPoint[];
export function reportFileName(entryName: string): string;
/** Every report, in memory: report file name (e.g. `piopiy-ai.api.md`) -> its text. */
export function generateApiReports(root: string): Map<string, string>;
export function compareApiReports(root: string, reports: ReadonlyMap<string, string>): { changed: string[]; missing: string[]; extra: string[] };
export function writeApiReports(root: string, reports: ReadonlyMap<string, string>): void;
