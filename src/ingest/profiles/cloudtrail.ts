import { isIP } from 'node:net';
import { getPath, withSource, type Profile } from './path.js';

/** True when `obj` is shaped like an AWS CloudTrail record. */
export function looksLikeCloudTrail(obj: Record<string, unknown>): boolean {
  return typeof obj.eventSource === 'string' && typeof obj.eventName === 'string';
}

/**
 * The subject of a CloudTrail record: `userIdentity.userName`; for an assumed role (IAM Identity
 * Center / SAML federation) the role session name, usually the user's email; else the ARN.
 */
function subject(o: Record<string, unknown>): unknown {
  const userName = getPath(o, 'userIdentity.userName');
  if (typeof userName === 'string' && userName) return userName;
  const arn = getPath(o, 'userIdentity.arn');
  if (typeof arn === 'string') {
    const m = /^arn:aws[\w-]*:sts::\d+:assumed-role\/[^/]+\/(.+)$/.exec(arn);
    return m ? m[1] : arn;
  }
  return getPath(o, 'userIdentity.principalId');
}

/**
 * AWS CloudTrail record → canonical event. `ConsoleLogin` becomes `login` (outcome from
 * `responseElements.ConsoleLogin`; a failure's `reason` is `bad_password` for "Failed
 * authentication" — but one with `MFAUsed: Yes` failed at the MFA step, after the password
 * passed: outcome `interrupted`, `reason: mfa_failed`, never a wrong guess); every other API call
 * becomes `aws.<eventName>`. The record's own fields are kept as attributes (see {@link withSource}).
 */
export const cloudtrail: Profile = (o) => {
  if (!looksLikeCloudTrail(o)) return null;
  const name = o.eventName as string;
  const login = name === 'ConsoleLogin';
  const mfa = getPath(o, 'additionalEventData.MFAUsed');
  const src = typeof o.sourceIPAddress === 'string' ? o.sourceIPAddress : '';
  const result = login ? getPath(o, 'responseElements.ConsoleLogin') : o.errorCode ? 'failure' : 'success';
  const failedLogin = login && typeof result === 'string' && result.toLowerCase() === 'failure';
  // The MFA prompt comes only after the right password (Splunk's "AWS Console Login Failed During MFA Challenge").
  const mfaFailed = failedLogin && mfa === 'Yes';
  const outcome = mfaFailed ? 'interrupted' : result;
  return withSource(o, {
    type: login ? 'login' : `aws.${name}`,
    id: o.eventID,
    user: subject(o),
    time: o.eventTime,
    outcome,
    // "Failed authentication" is a wrong password (or an unknown user: then userName is hidden).
    reason: mfaFailed ? 'mfa_failed' : failedLogin ? (/failed authentication/i.test(String(o.errorMessage)) ? 'bad_password' : 'failure') : undefined,
    error: o.errorMessage ?? o.errorCode,
    // sourceIPAddress may name a service ("ec2.amazonaws.com", "AWS Internal") instead of an IP.
    ip: isIP(src) ? src : undefined,
    source: src && !isIP(src) ? src : undefined,
    mfa: typeof mfa === 'string' ? mfa === 'Yes' : undefined,
    account: getPath(o, 'userIdentity.accountId') ?? o.recipientAccountId,
    identity_type: getPath(o, 'userIdentity.type'),
    arn: getPath(o, 'userIdentity.arn'),
    region: o.awsRegion,
    user_agent: o.userAgent,
    event_source: o.eventSource,
    vendor: 'aws',
  });
};
