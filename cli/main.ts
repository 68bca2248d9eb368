import { parseArgs, UsageError } from "./args.js";
import type { Scope } from "../generator/search-path.js";

const USAGE = `usage: berth [--user] COMMAND [ARGS]

  validate [--json] [--strict] [--as NAME.container] [PATH...]
                       check definitions, alone and as a set (exit 1 on errors)
  render NAME|FILE     print the unit exactly as the generator writes it
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv.filter((a) => a !== "--user");
  const scope: Scope = argv.includes("--user") ? "user" : "system";
  try {
    switch (command) {
      case "validate":
        return (await import("./validate.js")).validate(parseArgs(rest, ["as"], ["json", "strict"]), scope);
      case "render":
        return (await import("./render.js")).render(parseArgs(rest, ["as"]), scope);
      case "help":
      case "--help":
      case undefined:
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`berth: ${e.message}\n${USAGE}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
