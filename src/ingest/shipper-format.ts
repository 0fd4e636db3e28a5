import { isPlainObject } from './profiles/path.js';

/**
 * Shipper output formats riskstream does not read as events, recognised in a record that failed
 * validation, so its dead letter says what was sent and what to send instead (docs/shippers.md).
 * Each hint ends with a code in parentheses, as other reasons do (`time_invalid`).
 */

/** Vector's `native_json` codec: each event under its kind. */
const NATIVE_KINDS = new Set(['log', 'metric', 'trace']);

/**
 * The hint for a record in a format no shipper recipe sends — GELF (Fluent Bit `format gelf`,
 * Vector `codec: gelf`), Vector's `native_json`, an ECS document left unmapped — or undefined.
 * Pure.
 */
export function shipperFormatHint(obj: Record<string, unknown>): string | undefined {
  if (obj.version === '1.1' && typeof obj.short_message === 'string') {
    return 'a GELF message, whose fields are prefixed with _: send JSON (Fluent Bit format json_lines, Vector codec json) (gelf_not_read)';
  }
  const keys = Object.keys(obj);
  if (keys.length === 1 && NATIVE_KINDS.has(keys[0]!) && isPlainObject(obj[keys[0]!])) {
    return "Vector's native_json codec: set encoding.codec to json (native_json_not_read)";
  }
  if (isPlainObject(obj.user)) {
    return 'user is an object, as in an ECS document (user.name): map the stream with a generic profile, docs/shippers.md (ecs_unmapped)';
  }
  return undefined;
}
