/**
 * Bearer tokens given in the environment (pure). They are held to the same 16-character minimum
 * as the tokens in `http.*_tokens`: a short one is a config issue, never silently accepted.
 */

/** Shortest accepted token, from the file or the environment. */
export const MIN_TOKEN_LENGTH = 16;

/** Environment variable → the token list it adds to. */
export const ENV_TOKEN_VARS = {
  RISKSTREAM_ADMIN_TOKEN: 'admin',
  RISKSTREAM_INGEST_TOKEN: 'ingest',
  RISKSTREAM_SSF_TOKEN: 'ssf',
  RISKSTREAM_METRICS_TOKEN: 'metrics',
} as const;

/** The token kinds. */
export type TokenKind = (typeof ENV_TOKEN_VARS)[keyof typeof ENV_TOKEN_VARS];

/** Tokens read from the environment by kind, and one message per variable that is too short. */
export interface EnvTokens {
  tokens: Record<TokenKind, string[]>;
  problems: string[];
}

/**
 * Reads the token variables. Unset or empty means none; a value shorter than
 * {@link MIN_TOKEN_LENGTH} is reported (by variable name and length, never its value) and not used.
 */
export function readEnvTokens(env: NodeJS.ProcessEnv): EnvTokens {
  const tokens: Record<TokenKind, string[]> = { admin: [], ingest: [], ssf: [], metrics: [] };
  const problems: string[] = [];
  for (const [name, kind] of Object.entries(ENV_TOKEN_VARS) as Array<[keyof typeof ENV_TOKEN_VARS, TokenKind]>) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (v.length < MIN_TOKEN_LENGTH) problems.push(`${name}: tokens must be at least ${MIN_TOKEN_LENGTH} characters (got ${v.length})`);
    else tokens[kind].push(v);
  }
  return { tokens, problems };
}
