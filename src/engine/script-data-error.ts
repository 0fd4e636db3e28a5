/**
 * Which commit-script errors are failures of the data it was given (counted toward isolating the
 * partition, src/engine/poison-guard.ts), and which are Redis's, the network's or the cluster's
 * (never counted: retried as before). An allow-list: only a Lua runtime error raised by the
 * script's own code — a type error on an unexpected value, a MessagePack or JSON decode error, a
 * table index nil or NaN, too many results to unpack, a stack overflow (data nested too deep) —
 * counts. Everything else does not: an error reply of a command the script called (OOM, BUSY,
 * WRONGTYPE, a non-local key or CROSSSLOT during resharding …), one of EVAL itself (NOSCRIPT,
 * MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, READONLY …), a closed connection or a timeout.
 */

/** A Lua runtime error of the script's code: Redis ≥ 7 (`ERR user_script:N: …`) and Redis 6 (`ERR Error running script (call to f_…): @user_script:N: user_script:N: …`). */
const RUNTIME = /^ERR (?:Error running script \(call to f_[0-9a-f]+\): @user_script:\d+: )?user_script:\d+: (.*)$/s;

/** Lua's C stack overflowed in the script's code (deep recursion through C calls): Redis 7 reports it with no script line (`ERR C stack overflow script: …`). */
const C_STACK = /^ERR C stack overflow /;

/** The Lua runtime errors that mean the data was not what the script expects (Lua 5.1, lua_cjson, lua_cmsgpack). */
const DATA = new RegExp(
  [
    String.raw`attempt to (?:index|call|perform arithmetic on|compare|concatenate|get length of) `,
    String.raw`bad argument #\d+ `,
    String.raw`invalid value \(at index \d+\) in table for 'concat'`,
    String.raw`string length overflow`,
    String.raw`too many results to unpack`,
    String.raw`table index is (?:nil|NaN)`,
    String.raw`(?:C )?stack overflow`,
    // lua_cmsgpack
    String.raw`Missing bytes in input`,
    String.raw`Bad data format in input`,
    // lua_cjson
    String.raw`Expected .+ but found `,
    String.raw`Found .+ at character \d+`,
    String.raw`Cannot serialise `,
    String.raw`Too many nested data structures`,
    String.raw`Excessively sparse array`,
  ]
    .map((p) => `^(?:${p})`)
    .join('|'),
);

/** True for a commit's Redis error caused by what it writes: the commit script's own code failed on its data (see the file's comment). */
export function scriptDataError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  if (e?.name !== 'ReplyError' || typeof e.message !== 'string') return false;
  if (C_STACK.test(e.message)) return true;
  const detail = RUNTIME.exec(e.message)?.[1];
  return detail !== undefined && DATA.test(detail);
}
