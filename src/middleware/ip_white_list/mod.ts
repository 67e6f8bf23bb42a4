/**
 * Traefik v2's `ipWhiteList`: {@linkcode ipAllowList} under its old name,
 * without `rejectStatusCode` (refused clients always get 403 `Forbidden`).
 * Kept so v2 configurations load unchanged; new ones should use ipAllowList.
 *
 * @module
 */
import { definePlugin } from "../../plugin/mod.ts";
import { ipAllowList, ipWhiteListConfig } from "../ip_allow_list/mod.ts";

export { ipWhiteListConfig };
export type { IPWhiteListConfig } from "../ip_allow_list/mod.ts";

/** The ipWhiteList plugin (deprecated name of ipAllowList). */
export default definePlugin({
  name: "ipWhiteList",
  description: "Deprecated: ipAllowList without rejectStatusCode",
  config: ipWhiteListConfig,
  create: (config) => ipAllowList(config),
});
