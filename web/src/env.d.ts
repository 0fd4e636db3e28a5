/** The world outline, generated at build time from world-atlas (see web/vite.config.ts). */
declare module 'virtual:world' {
  /** SVG path data: x = longitude + 180, y = 90 − latitude (equirectangular, 0..360 × 0..180). */
  export const WORLD: string;
}
