// ConfigurationError: everything wrong with a component's settings at once, each problem saying what the setting is
// for and where it comes from, so a new user fixes their environment in one pass instead of one variable per run.
// It lives at the bottom layer because every layer's constructors may throw it.

export type ConfigurationProblemKind = 'missing' | 'invalid';

export interface ConfigurationProblem {
  /** The environment variable the setting comes from (read when the option is omitted), e.g. `AGENT_ID`. */
  readonly variable?: string;
  /** The constructor option, e.g. `agentId`. */
  readonly option: string;
  /** What the setting is for, e.g. "the AI agent's id from the Piopiy dashboard". */
  readonly purpose: string;
  readonly problem: ConfigurationProblemKind;
  /** Why the value is invalid. Never contains the value of a secret. */
  readonly detail?: string;
}

/** A constructor was given settings it cannot work with; `problems` lists every one of them. */
export class ConfigurationError extends Error {
  /** The class whose settings are wrong, e.g. `Agent`, `RestClient`. */
  readonly component: string;
  readonly problems: readonly ConfigurationProblem[];

  constructor(component: string, problems: readonly ConfigurationProblem[]) {
    super(formatConfigurationProblems(component, problems));
    this.name = 'ConfigurationError';
    this.component = component;
    this.problems = problems;
  }
}

/**
 * The message of a ConfigurationError, e.g.
 * ```text
 * Agent: 2 settings are missing:
 *   AGENT_ID — the AI agent's id from the Piopiy dashboard (Agent option agentId): not set
 *   AGENT_TOKEN — the AI agent's secret token from the Piopiy dashboard (Agent option agentToken): not set
 * Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options.
 * ```
 */
export function formatConfigurationProblems(component: string, problems: readonly ConfigurationProblem[]): string {
  const missing = problems.filter((p) => p.problem === 'missing').length;
  const invalid = problems.length - missing;
  const count = (n: number): string => `${n} setting${n === 1 ? '' : 's'}`;
  const verb = (n: number): string => (n === 1 ? 'is' : 'are');
  const summary =
    invalid === 0
      ? `${count(missing)} ${verb(missing)} missing`
      : missing === 0
        ? `${count(invalid)} ${verb(invalid)} invalid`
        : `${count(missing)} ${verb(missing)} missing and ${invalid} ${verb(invalid)} invalid`;
  const lines = problems.map((p) => {
    const where = `${component} option ${p.option}`;
    const subject = p.variable === undefined ? `${where} — ${p.purpose}` : `${p.variable} — ${p.purpose} (${where})`;
    const what = p.problem === 'missing' ? 'not set' : (p.detail ?? 'invalid');
    return `  ${subject}: ${what}`;
  });
  const hint = problems.some((p) => p.problem === 'missing' && p.variable !== undefined)
    ? ["Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options."]
    : [];
  return [`${component}: ${summary}:`, ...lines, ...hint].join('\n');
}

/** Which setting a check is about: its option, the variable it may come from, what it is for. */
export type SettingName = Pick<ConfigurationProblem, 'option' | 'purpose'> & { readonly variable?: string };

/** Collects problems while a constructor checks its options, then throws them together. */
export class ConfigurationProblems {
  private readonly problems: ConfigurationProblem[] = [];

  constructor(private readonly component: string) {}

  add(problem: ConfigurationProblem): void {
    this.problems.push(problem);
  }

  /** An id or secret: missing when undefined or '', invalid per credentialProblem. Returns it, or '' when unusable. */
  credential(value: unknown, setting: SettingName): string {
    if (value === undefined || value === '') this.add({ ...setting, problem: 'missing' });
    else {
      const detail = credentialProblem(value);
      if (detail !== undefined) this.add({ ...setting, problem: 'invalid', detail });
    }
    return typeof value === 'string' ? value : '';
  }

  /** A URL with one of `protocols`. Returns it, or '' when it is not a string. */
  url(value: unknown, protocols: readonly string[], setting: SettingName): string {
    const detail = urlProblem(value, protocols);
    if (detail !== undefined) this.add({ ...setting, problem: 'invalid', detail });
    return typeof value === 'string' ? value : '';
  }

  /** An optional number: invalid unless undefined or a number `ok` accepts; `rule` says which ("an integer >= 0"). */
  number(value: unknown, setting: SettingName, ok: (n: number) => boolean, rule: string): void {
    if (value !== undefined && !(typeof value === 'number' && ok(value))) {
      this.add({ ...setting, problem: 'invalid', detail: `must be ${rule}, got ${describeValue(value)}` });
    }
  }

  /** Throws a ConfigurationError listing every problem added, if there is any. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigurationError(this.component, this.problems);
  }
}

/** A non-secret value as it appears in a problem's detail: `0`, `"ten"`, `an object`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : `a value of type ${typeof value}`;
}

/** Why a secret or id is unusable, or undefined when it is fine ('' and undefined are `missing`, handled by callers). */
export function credentialProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${typeof value}`;
  if (value.trim() === '') return 'is blank (only spaces)';
  // A pasted value with a stray space or newline is refused by the server with a message that does not say why.
  if (value.trim() !== value) return 'has spaces or a line break at its start or end';
  return undefined;
}

/** Why `value` is not a URL with one of `protocols`, or undefined when it is one. Credentials in it are not shown. */
export function urlProblem(value: unknown, protocols: readonly string[]): string | undefined {
  if (typeof value !== 'string') return `must be a URL string, got ${typeof value}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
  }
  if (!protocols.includes(url.protocol)) {
    return `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got ${url.protocol}//`;
  }
  return undefined;
}
