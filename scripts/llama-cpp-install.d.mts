// Types of scripts/llama-cpp-install.mjs for the test that imports it (the script itself stays plain JavaScript).
export const NODE_LLAMA_CPP_VERSION: string;
export const LLAMA_PACKAGES: string[];
export function unsupportedReason(machine: { platform: string; arch: string; glibcVersion: string | undefined }): string | undefined;
export function installNeeded(state: { stamp: string | undefined; packageDirExists: boolean }): boolean;
export function linkAction(state: {
  entry: 'none' | 'directory' | 'link';
  linkTarget: string | undefined;
  targetExists: boolean;
  expectedTarget: string;
}): 'keep' | 'create' | 'repair';
export function ensureNodeLlamaCpp(root: string, log: (message: string) => void): void;
