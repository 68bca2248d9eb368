/** A small argv parser: `--flag`, `--opt VALUE`/`--opt=VALUE`, and positionals. */
export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], withValue: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), options: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (withValue.includes(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      out.options.set(name, value);
    } else if (!flags.includes(name)) {
      throw new UsageError(`unknown option --${name}`);
    } else if (eq > 0) {
      throw new UsageError(`--${name} takes no value`);
    } else {
      out.flags.add(name);
    }
  }
  return out;
}

export class UsageError extends Error {}
