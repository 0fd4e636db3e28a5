import { RiskstreamError } from '../../errors.js';
import type { RiskstreamFileConfig } from '../../config/schema.js';
import { cloudtrail, looksLikeCloudTrail } from './cloudtrail.js';
import { entra, looksLikeEntra } from './entra.js';
import { genericProfile } from './generic.js';
import { looksLikeOkta, okta } from './okta.js';
import type { Profile } from './path.js';

export type { Profile } from './path.js';

/** `Config.raw.mapping`: stream → profile id, and the generic profiles' field maps. */
export type MappingConfig = RiskstreamFileConfig['mapping'];

const BUILTIN: Record<string, Profile> = { okta, entra, cloudtrail };

/** The built-in profiles' vendors, with their article. */
const NAMES: Record<string, string> = { okta: 'an Okta', entra: 'an Entra', cloudtrail: 'a CloudTrail' };

/** What each built-in profile needs of an object, for the reason of one that is not of its shape. */
const SHAPES: Record<string, string> = {
  okta: 'an Okta System Log event needs eventType (a string), actor (an object) and published or uuid',
  entra: 'an Entra sign-in needs userPrincipalName (a string) and createdDateTime, or category SignInLogs with such properties',
  cloudtrail: 'a CloudTrail record needs eventSource and eventName (strings)',
};

/** Why an object is not of profile `id`'s shape (the reason a refused entry is dead-lettered with). */
export function shapeReason(id: string): string {
  return Object.hasOwn(SHAPES, id) ? `object is not of its shape: ${SHAPES[id]}` : 'object does not have the expected shape';
}

/**
 * Resolves a profile id: `okta`, `entra`, `cloudtrail` or `generic:<name>` (from
 * `mapping.generic`). Throws CONFIG_INVALID for an unknown id.
 */
export function resolveProfile(id: string, mapping?: Pick<MappingConfig, 'generic'>): Profile {
  const builtin = Object.hasOwn(BUILTIN, id) ? BUILTIN[id] : undefined;
  if (builtin) return builtin;
  if (id.startsWith('generic:')) {
    const name = id.slice('generic:'.length);
    const spec = mapping?.generic && Object.hasOwn(mapping.generic, name) ? mapping.generic[name] : undefined;
    if (!spec) throw new RiskstreamError('CONFIG_INVALID', `mapping profile "${id}": no mapping.generic.${name} defined`, { profile: id });
    return genericProfile(name, spec);
  }
  throw new RiskstreamError('CONFIG_INVALID', `unknown mapping profile "${id}" (okta, entra, cloudtrail, generic:<name>)`, { profile: id });
}

/**
 * For an object no profile was detected in: the vendor record it partly resembles (one of its
 * identifying fields), with what that profile needs, so a dead letter's reason names the fields
 * the sender did send; undefined otherwise.
 */
export function resembledShape(obj: Record<string, unknown>): string | undefined {
  if (obj.user !== undefined) return undefined;
  const has = (k: string): boolean => obj[k] !== undefined;
  const id =
    has('eventType') && (has('published') || has('uuid') || has('actor'))
      ? 'okta'
      : has('userPrincipalName') || (typeof obj.category === 'string' && /signin/i.test(obj.category))
        ? 'entra'
        : has('eventSource') || (has('eventName') && (has('eventVersion') || has('awsRegion') || has('userIdentity')))
          ? 'cloudtrail'
          : undefined;
  return id && `it looks like ${NAMES[id]} record, but ${SHAPES[id]}`;
}

/** Detects a vendor shape (Okta, Entra, CloudTrail) in an object without a canonical `user`. */
export function detectProfile(obj: Record<string, unknown>): { id: string; profile: Profile } | null {
  if (obj.user !== undefined) return null;
  if (looksLikeOkta(obj)) return { id: 'okta', profile: okta };
  if (looksLikeEntra(obj)) return { id: 'entra', profile: entra };
  if (looksLikeCloudTrail(obj)) return { id: 'cloudtrail', profile: cloudtrail };
  return null;
}

const compiled = new WeakMap<object, Map<string, Profile>>();

/**
 * The profiles configured per stream, resolved once per mapping object (cached).
 * Throws CONFIG_INVALID when a stream names an unknown profile: call at startup to validate.
 */
export function streamProfiles(mapping: MappingConfig): Map<string, Profile> {
  let m = compiled.get(mapping);
  if (!m) {
    m = new Map();
    for (const [stream, id] of Object.entries(mapping.streams)) m.set(stream, resolveProfile(id, mapping));
    compiled.set(mapping, m);
  }
  return m;
}
