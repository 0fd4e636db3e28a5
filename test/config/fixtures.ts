/** Config files broken on purpose; the tests name the line:col of each mistake. */

export const BROKEN_BEHAVIORS = `# broken on purpose
impossible_travel:
  enabled: true
  risk_level: severe
  max_speed_kmh: 1000
dlp_detection:
  enabled: true
  risk_level: medium
  window: 5 mins
  colour: blue
teleportation:
  enabled: true
  risk_level: high
`;

export const BROKEN_MAIN = `redis:
  url: redis://127.0.0.1:6379
  urll: redis://typo
http:
  port: eighty
streams:
  block: 5 mins
issuer: not a url
`;
