// Types of cli/ts-hooks.mjs (module hooks, plain JavaScript: Node loads them before any loader).

/** Whether `url` is one of the project's own TypeScript modules (not one in its node_modules). */
export declare function isOwnTypeScript(url: string): boolean;
/** The JavaScript for the TypeScript `source` at `path`, from the cache or transformed now. */
export declare function transformOwn(path: string, source: string): Promise<string>;
/** Node's `load` hook. */
export declare function load(
  url: string,
  context: object,
  nextLoad: (url: string, context: object) => Promise<unknown>,
): Promise<unknown>;
