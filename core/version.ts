/** The version `qnet --version` and `qnetd -v` print. Kept in step with deno.json. */
export const QNET_VERSION = "0.1.0";
