import type { z } from 'zod';

/**
 * What one part of Roster reads from the environment: zod schemas, each parsed on the whole
 * environment into a piece of the settings. An app composes the shared base with its own
 * schemas (create-t3-turbo's `extends`), and the launcher composes the apps'; a schema that two of
 * them share is parsed once.
 */
export interface ConfigSchema<T extends object> {
  readonly parts: readonly z.ZodType<object>[];
  /** Type only: the settings {@link loadConfig} returns. */
  readonly __config?: T;
}

/** A settings schema of one zod schema (a `z.object` of variables, transformed into settings). */
export function defineConfig<T extends object>(schema: z.ZodType<T>): ConfigSchema<T> {
  return { parts: [schema] };
}

/** The configuration a schema gives: `InferConfig<typeof scimConfigSchema>`. */
export type InferConfig<S> = S extends ConfigSchema<infer T> ? T : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The settings of all `schemas` together: every variable each of them reads. */
export function composeConfig<S extends readonly ConfigSchema<object>[]>(
  ...schemas: S
): ConfigSchema<Intersection<InferConfig<S[number]>> & object> {
  return { parts: [...new Set(schemas.flatMap((schema) => schema.parts))] };
}

/** Thrown when the environment does not pass the schema; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * Parses the environment into frozen settings; the apps' config modules are the only readers
 * of `process.env`. Every bad variable of every part is reported at once.
 *
 * @example
 * const config = loadConfig(scimConfigSchema); // throws ConfigError: "SCIM_PORT: ..." on a bad value
 */
export function loadConfig<T extends object>(
  schema: ConfigSchema<T>,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const issues: string[] = [];
  const pieces: object[] = [];
  for (const part of schema.parts) {
    const parsed = part.safeParse(env);
    if (parsed.success) pieces.push(parsed.data);
    else issues.push(...parsed.error.issues.map((issue) => describeIssue(issue, env)));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(pieces.reduce(mergeConfig, {})) as T;
}

function describeIssue(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const variable = issue.path.join('.') || '(environment)';
  const received = env[variable];
  // Tokens and URLs may hold secrets: never echoed.
  const shown = received === undefined || /TOKEN|URL/.test(variable) ? '' : ` (got "${received}")`;
  return `${variable}: ${issue.message}${shown}`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** Two parts may fill in the same group (`sso.baseUrl` and `sso.clockSkewMs`): merged deeply. */
function mergeConfig(into: object, piece: object): object {
  const merged: Record<string, unknown> = { ...into };
  for (const [key, value] of Object.entries(piece)) {
    const existing = merged[key];
    merged[key] =
      isPlainObject(existing) && isPlainObject(value) ? mergeConfig(existing, value) : value;
  }
  return merged;
}

function deepFreeze<T>(value: T): T {
  if (isPlainObject(value)) for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
