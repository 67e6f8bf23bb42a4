/**
 * The plugins shipped in the project's `plugins/` folder, each imported with
 * a **string-literal** `import()`.
 *
 * Literal specifiers are what both single-file builds can see:
 * `deno bundle` (esbuild) inlines each module, and `deno compile` embeds it,
 * so the loader can hand out a shipped plugin without touching the disk. A
 * computed specifier (`import(name)`) is dropped by esbuild and skipped by
 * `deno compile`.
 *
 * Keep one entry per folder of `plugins/`, sorted by folder name;
 * `tests/plugins/manifest_test.ts` fails (and prints the expected entries)
 * when a folder is missing here or an entry has no folder.
 *
 * @module
 */

/** Imports a shipped plugin module. */
export type ShippedImport = () => Promise<unknown>;

/** Shipped plugins by folder name (`plugins/<folder>/mod.ts`). */
export const SHIPPED_PLUGINS: Readonly<Record<string, ShippedImport>> = {
  canary: () => import("../../plugins/canary/mod.ts"),
  jwt: () => import("../../plugins/jwt/mod.ts"),
  request_id: () => import("../../plugins/request_id/mod.ts"),
};
