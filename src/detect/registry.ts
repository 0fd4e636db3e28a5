/** Which detector implements which behavior kind. */
import type { BehaviorKind } from '../config/behaviors-schema.js';
import { RiskstreamError } from '../errors.js';
import { devicePostureScore } from './device-posture-score.js';
import { dlpDetection } from './dlp-detection.js';
import { highRiskDomain, securityDomain } from './domain-category.js';
import { endpointDetection } from './endpoint-detection.js';
import { highDlp } from './high-dlp.js';
import { impossibleTravel } from './impossible-travel.js';
import { maliciousFile } from './malicious-file.js';
import { threshold } from './threshold.js';
import type { Detector } from './types.js';

// Params and window differ per kind; the config schema types the params.
type AnyDetector = Detector<any, any>;

const DETECTORS: Record<BehaviorKind, AnyDetector> = {
  impossible_travel: impossibleTravel,
  dlp_detection: dlpDetection,
  high_dlp: highDlp,
  endpoint_detection: endpointDetection,
  device_posture_score: devicePostureScore,
  malicious_file: maliciousFile,
  security_domain: securityDomain,
  high_risk_domain: highRiskDomain,
  threshold,
};

/** Every behavior kind that has a detector. */
export const DETECTOR_KINDS = Object.keys(DETECTORS) as readonly BehaviorKind[];

/** True when `kind` names a known detector. */
export function isDetectorKind(kind: string): kind is BehaviorKind {
  return Object.hasOwn(DETECTORS, kind);
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
