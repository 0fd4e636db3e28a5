/**
 * Bearer tokens given in the environment (pure). They are held to the same 16-character minimum
 * as the tokens in `http.*_tokens`: a short one is a config issue, never silently accepted.
 */

/** Shortest accepted token, from the file or the environment. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * What a client can send in `Authorization: Bearer <token>` and the API compare: printable ASCII
 * without spaces. A token holding a space, a control character (a secret file's trailing newline
 * or CR) or a non-ASCII one would be accepted yet never match: every request 401.
 */
const BEARER_SAFE = /^[\x21-\x7e]*$/;

/** Why a token (file or environment) is refused, or undefined when it is usable. */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `tokens must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length})`;
  if (!BEARER_SAFE.test(token)) return 'tokens must be printable ASCII without spaces or line breaks (a bearer header cannot carry this one)';
  return undefined;
}

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
 * Reads the token variables. Unset or empty means none; a value {@link tokenProblem} refuses
 * (shorter than {@link MIN_TOKEN_LENGTH}, or not bearer-safe) is reported by variable name, never
 * its value, and not used.
 */
export function readEnvTokens(env: NodeJS.ProcessEnv): EnvTokens {
  const tokens: Record<TokenKind, string[]> = { admin: [], ingest: [], ssf: [], metrics: [] };
  const problems: string[] = [];
  for (const [name, kind] of Object.entries(ENV_TOKEN_VARS) as Array<[keyof typeof ENV_TOKEN_VARS, TokenKind]>) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const problem = tokenProblem(v);
    if (problem) problems.push(`${name}: ${problem}`);
    else tokens[kind].push(v);
  }
  return { tokens, problems };
}
