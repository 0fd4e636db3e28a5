/**
 * Which detector implements which behavior kind: a new behavior is its detector file plus one
 * line here. config/behaviors-schema.ts builds the behaviors.yaml schema from this table.
 */
import { RiskstreamError } from '../errors.js';
import { devicePostureScore } from './device-posture-score.js';
import { bruteForce } from './brute-force.js';
import { dlpDetection } from './dlp-detection.js';
import { highRiskDomain, securityDomain } from './domain-category.js';
import { endpointDetection } from './endpoint-detection.js';
import { highDlp } from './high-dlp.js';
import { impossibleTravel } from './impossible-travel.js';
import { maliciousFile } from './malicious-file.js';
import { mfaFatigue } from './mfa-fatigue.js';
import { newCountry } from './new-country.js';
import { sessionHijack } from './session-hijack.js';
import { passwordSpray } from './password-spray.js';
import { threshold } from './threshold.js';
import type { Detector } from './types.js';

// Params and window differ per kind (methods are bivariant, so every detector is one of these); its own `params` schema types them.
type AnyDetector = Detector<unknown, unknown>;

/** Predefined behaviors: the kind is also a behavior id (`impossible_travel:` in behaviors.yaml). */
const PREDEFINED_DETECTORS = {
  impossible_travel: impossibleTravel,
  dlp_detection: dlpDetection,
  high_dlp: highDlp,
  endpoint_detection: endpointDetection,
  device_posture_score: devicePostureScore,
  malicious_file: maliciousFile,
  security_domain: securityDomain,
  high_risk_domain: highRiskDomain,
  // Credential and session behaviors (issue 18).
  brute_force: bruteForce,
  mfa_fatigue: mfaFatigue,
  new_country: newCountry,
  session_hijack: sessionHijack,
  password_spray: passwordSpray,
} satisfies Record<string, AnyDetector>;

/** Kinds configured only under an id of the admin's choosing, with `kind:` (e.g. `failed_logins: {kind: threshold}`). */
const KIND_ONLY_DETECTORS = {
  threshold,
} satisfies Record<string, AnyDetector>;

const ALL = { ...PREDEFINED_DETECTORS, ...KIND_ONLY_DETECTORS };
const DETECTORS: Record<BehaviorKind, AnyDetector> = ALL;

/** The ids of the predefined behaviors. */
export type PredefinedKind = keyof typeof PREDEFINED_DETECTORS;

/** The kinds of behavior riskstream knows. */
export type BehaviorKind = PredefinedKind | keyof typeof KIND_ONLY_DETECTORS;

/** The validated parameters of a kind's detector. */
export type DetectorParams<K extends BehaviorKind> = (typeof ALL)[K] extends Detector<infer P, unknown> ? P : never;

/** Every behavior kind that has a detector. */
export const DETECTOR_KINDS = Object.keys(DETECTORS) as readonly BehaviorKind[];

/** The predefined behavior ids, in registry order. */
export const PREDEFINED_KINDS = Object.keys(PREDEFINED_DETECTORS) as readonly PredefinedKind[];

/** True when `kind` names a known detector. */
export function isDetectorKind(kind: string): kind is BehaviorKind {
  return Object.hasOwn(DETECTORS, kind);
}

/** True when `id` is a predefined behavior id. */
export function isPredefinedKind(id: string): id is PredefinedKind {
  return Object.hasOwn(PREDEFINED_DETECTORS, id);
}

/**
 * The detector for a behavior kind (a BehaviorConfig's `kind`); pass it that behavior's
 * validated `params`. Throws CONFIG_INVALID for an unknown kind.
 */
export function detectorFor(kind: string): AnyDetector {
  if (!isDetectorKind(kind)) {
    throw new RiskstreamError('CONFIG_INVALID', `no detector for behavior kind "${kind}"`, { kind, known: [...DETECTOR_KINDS] });
  }
  return DETECTORS[kind];
}
