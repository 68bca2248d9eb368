declare const BERTH_BUILD: string | undefined;

/**
 * Which build this code is: scripts/build.js sets it in every bundle it makes, from a digest of the
 * sources, so berthd and the generator of one build agree; run from the sources (tests), "unbuilt".
 */
export const buildId: string = typeof BERTH_BUILD === "string" ? BERTH_BUILD : "unbuilt";
