import { homedir } from "node:os";
import { join } from "node:path";

export type Scope = "system" | "user";

export function detectScope(env: NodeJS.ProcessEnv = process.env): Scope {
  // systemd ≥ 251 tells generators which manager runs them.
  if (env.SYSTEMD_SCOPE === "user" || env.SYSTEMD_SCOPE === "system") return env.SYSTEMD_SCOPE;
  return process.getuid?.() === 0 ? "system" : "user";
}

/** Definition directories in priority order: a file in an earlier one masks a same-named later one. */
export function unitDirs(scope: Scope, env: NodeJS.ProcessEnv): string[] {
  const override = env.BERTH_UNIT_DIRS;
  if (override) return override.split(":").filter(Boolean);
  if (scope === "system") return ["/etc/berth", "/run/berth", "/usr/lib/berth"];
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  const dirs = [join(config, "berth")];
  if (env.XDG_RUNTIME_DIR) dirs.push(join(env.XDG_RUNTIME_DIR, "berth"));
  return dirs;
}

/**
 * Drop-in directory names for a definition, most specific first, as systemd looks them up for
 * units: the full name, the template, each dash-truncated prefix (`foo-bar-.container.d`), then
 * the top-level one of its file type (`container.d`, `network.d`).
 */
export function dropInDirNames(base: string, type: string, templateBase?: string): string[] {
  const names = [`${base}.${type}.d`];
  if (templateBase) names.push(`${templateBase}.${type}.d`);
  const stem = templateBase ?? base;
  for (let i = stem.lastIndexOf("-"); i > 0; i = stem.lastIndexOf("-", i - 1)) {
    names.push(`${stem.slice(0, i + 1)}.${type}.d`);
  }
  names.push(`${type}.d`);
  return names;
}

const PLAIN_ABSOLUTE = /^\/[A-Za-z0-9_.\/@+-]*$/;

/**
 * systemd's shared data directory (`%D`) for a manager, in unit syntax: /usr/share for the
 * system's; for a user's `$XDG_DATA_HOME`, or else `$HOME/.local/share`, each only when it is a
 * plain absolute path, which can stand in a unit as it is and which berth can check as a path
 * (RestartOnChange= takes absolute ones); `%h/.local/share` otherwise.
 */
export function sharedDataDir(scope: Scope, env: NodeJS.ProcessEnv): string {
  if (scope === "system") return "/usr/share";
  const { XDG_DATA_HOME: xdg, HOME: home } = env;
  if (xdg !== undefined && PLAIN_ABSOLUTE.test(xdg)) return xdg;
  return home !== undefined && PLAIN_ABSOLUTE.test(home) ? `${home}/.local/share` : "%h/.local/share";
}

/** systemd's `%t`: the manager's runtime directory (`/run`, or the user's `$XDG_RUNTIME_DIR`). */
export function runtimeDir(scope: Scope, env: NodeJS.ProcessEnv): string {
  return scope === "system" ? "/run" : env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`;
}
