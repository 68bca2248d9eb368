import { parseArgs, UsageError } from "./args.js";
import type { Scope } from "../generator/search-path.js";

const USAGE = `usage: berth [--user] COMMAND [ARGS]

  validate [--json] [--strict] [--as NAME.container|DIR.d/FILE.conf] [PATH...]
                       check definitions, alone and as a set (exit 1 on errors)
  render NAME|FILE     print the unit exactly as the generator writes it (NAME: a file name
                       such as db.network, a unit or a container name)
  status [--json]      each service: systemd state, container, health, image, last error
  plan                 what a reconcile would do now (changes nothing)
  apply [--json] [--since MS] [--timeout SECONDS]
                       reconcile once and wait for the jobs (exit 1 if anything failed);
                       --since adds what berthd did from then on (ms since the epoch)

  --user               the user's manager and ~/.config/berth instead of the system's
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
      case "status":
        return (await import("./agent-commands.js")).statusCommand(parseArgs(rest, [], ["json"]), scope);
      case "plan":
        return (await import("./agent-commands.js")).planCommand(parseArgs(rest, []), scope);
      case "apply":
        return (await import("./agent-commands.js")).applyCommand(parseArgs(rest, ["since", "timeout"], ["json"]), scope);
      case "--version":
        process.stdout.write("berth 0.1.0\n");
        return 0;
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
// A D-Bus or Docker socket left half-open must not keep the command alive.
process.exit();
