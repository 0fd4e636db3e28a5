import { describe, expect, it } from 'vitest';
import { levelChangeReasons } from '../../src/ssf/reason-text.js';
import { REASON_LANGUAGES } from '../../src/types.js';

describe('reason texts of the credential behaviors (issue 18)', () => {
  it('name brute_force, mfa_fatigue, new_country and session_hijack in every catalogue language, never by their id', () => {
    const others = REASON_LANGUAGES.filter((l) => l !== 'en');
    for (const id of ['brute_force', 'mfa_fatigue', 'new_country', 'session_hijack']) {
      const r = levelChangeReasons({ previous: 'low', current: 'high', behaviors: [id], reason: `${id}: detail` }, others);
      expect(r.reason_admin.en).toBe(`${id}: detail`);
      for (const l of others) expect(r.reason_admin[l], `${id} in ${l}`).not.toContain(id);
    }
    expect(levelChangeReasons({ previous: 'low', current: 'high', behaviors: ['mfa_fatigue'], reason: 'x' }, ['de']).reason_admin.de).toBe(
      'Risikostufe NIEDRIG → HOCH: MFA-Ermüdung (Push-Bombing)',
    );
  });
});
