/**
 * security_domain and high_risk_domain: a visit to a `domain` whose `categories` (array) or
 * `category` (string or array) intersect the configured `categories`. Category names compare
 * case-insensitively with spaces and hyphens as underscores (`Command and Control` =
 * `command_and_control`). Counted whether or not the request was blocked. Stateless.
 */
import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import { firstString, getPath, lower } from './fields.js';
import type { Detector } from './types.js';

/** security_domain's and high_risk_domain's parameters. */
export const domainCategoryParams = z.strictObject({
  categories: z.array(z.string()).min(1),
});
export type DomainCategoryParams = z.output<typeof domainCategoryParams>;

/** A category name in its comparable form. */
export function normalizeCategory(c: string): string {
  return c
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

function categoriesOf(event: CanonicalEvent): string[] {
  const out: string[] = [];
  for (const path of ['categories', 'category']) {
    const v = getPath(event, path);
    for (const c of Array.isArray(v) ? v : [v]) if (typeof c === 'string' && c.trim()) out.push(normalizeCategory(c));
  }
  return out;
}

/** The event's domain and the configured categories it falls in (none → undefined). */
export function matchDomain(event: CanonicalEvent, categories: readonly string[]): { domain: string; matched: string[] } | undefined {
  const domain = firstString(event, ['domain', 'host']);
  if (!domain || !Number.isFinite(event.time)) return undefined;
  const wanted = new Set(categories.map(normalizeCategory));
  const matched = [...new Set(categoriesOf(event).filter((c) => wanted.has(c)))];
  return matched.length ? { domain: domain.trim().toLowerCase(), matched } : undefined;
}

/** A domain-category detector for one of the two kinds. */
export function domainCategoryDetector(kind: 'security_domain' | 'high_risk_domain'): Detector<DomainCategoryParams, undefined> {
  const label = kind === 'security_domain' ? 'Security-risk domain' : 'High-risk domain';
  return {
    kind,
    params: domainCategoryParams,
    accepts: (event, params) => matchDomain(event, params.categories) !== undefined,
    detect(_window, { event, eventId }, params) {
      const m = matchDomain(event, params.categories);
      if (!m) return { window: undefined, hits: [] };
      const action = lower(getPath(event, 'action'));
      return {
        window: undefined,
        hits: [
          {
            time: event.time,
            summary: `${label} ${m.domain} (${m.matched.join(', ')})${action === 'block' ? ', blocked' : ''}`,
            evidence: { domain: m.domain, categories: m.matched, action: action ?? null, type: lower(event.type) ?? null },
            eventIds: [eventId],
          },
        ],
      };
    },
  };
}

/** security_domain: malware, phishing, command-and-control … domains. */
export const securityDomain = domainCategoryDetector('security_domain');
/** high_risk_domain: newly seen, parked, DGA … domains. */
export const highRiskDomain = domainCategoryDetector('high_risk_domain');
