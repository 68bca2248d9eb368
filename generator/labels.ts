/** Labels berth puts on every container; the helper, the agent and `berth status` read them. */
export const UNIT_LABEL = "io.berth.unit";
/** A digest of the intended `docker create` argv: the spec, not what `docker inspect` reports. */
export const SPEC_LABEL = "io.berth.spec";
