/** Pacer's version, printed by `pacer --version` and `/api/version`. @module */

/** Semver of this build. */
export const VERSION = "0.1.0";
