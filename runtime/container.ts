import { manifestDigest, type ConfigState } from "../generator/config-manifest.js";
import { CONFIG_LABEL, SPEC_LABEL } from "../generator/labels.js";
import { configLabelFile, configStateFile, readManifest, writeAtomically } from "./config-files.js";
import { call, stream } from "./docker-socket.js";
import { ensure, runCommand } from "./ensure.js";

/**
 * Runs inside each generated unit: `create` when berth-step's `docker run` was refused, `watch`
 * (started by berth-step once the container is ready) to carry out HealthOnFailure=, `config`
 * before each start, and `ensure` as the ExecStart= of a `.network`, `.volume` or `.image` unit.
 */
type Command = (name: string, args: string[]) => Promise<number>;

interface Inspect {
  Id: string;
  Name?: string;
  State?: { Status?: string; Running?: boolean };
  Config?: { Labels?: Record<string, string> };
}

const say = (text: string): void => void process.stdout.write(text + "\n");
const complain = (text: string): void => void process.stderr.write(text + "\n");
const path = (name: string, rest = ""): string => `/containers/${encodeURIComponent(name)}${rest}`;

/** Removed by its full ID: Docker would take a name it does not know as the start of an ID. */
async function removeContainer(name: string, id: string): Promise<void> {
  const r = await call("DELETE", path(id, "?force=true&v=true"));
  if (r.status !== 204 && r.status !== 404) throw new Error(`cannot remove container ${name}: ${r.body.trim()}`);
}

/** The values of every `option VALUE` pair among `args`. */
const valuesOf = (args: readonly string[], option: string): string[] => args.flatMap((a, i) => (a === option && i + 1 < args.length ? [args[i + 1]!] : []));

/**
 * `create NAME [--require-image IMAGE] [--connect NETWORK [--connect-ip|--connect-ip6|--connect-alias VALUE]…]… [--alias NAME]… -- DOCKER create ARGS…`:
 * clears the way for the container and creates it. A leftover container (a crash, a kill, a
 * reboot) is removed so it never blocks a start; one that is running and carries this very spec
 * is kept instead of being replaced. `docker create` (20.10) joins one network: the container is
 * connected to each further one before it starts, under the same aliases, and with that network's own.
 */
const create: Command = async (name, args) => {
  const dash = args.indexOf("--");
  const argv = dash >= 0 ? args.slice(dash + 1) : [];
  if (argv.length < 2) {
    complain("create: expected -- DOCKER create ARGS");
    return 2;
  }
  const r = await call("GET", path(name, "/json"));
  const info = r.status === 200 ? (JSON.parse(r.body) as Inspect) : undefined;
  // Docker answers for a name it does not know with a container whose ID starts with it (db, cafe).
  if (info?.Name === `/${name}`) {
    const spec = info.Config?.Labels?.[SPEC_LABEL];
    if (info.State?.Running && spec !== undefined && argv.includes(`${SPEC_LABEL}=${spec}`)) {
      say(`${name} is already running with this definition; keeping it`);
      return 0;
    }
    await removeContainer(name, info.Id);
    // Explains the "name already in use" refusal docker run has just written to the journal.
    say(`removed a leftover container ${name} (${info.State?.Status ?? "unknown state"})`);
  }
  const i = args.indexOf("--require-image");
  // berth-step passes "-" when Pull= allows pulling.
  const image = i >= 0 && i < dash && args[i + 1] !== "-" ? args[i + 1] : undefined;
  if (image !== undefined && (await call("GET", `/images/${encodeURIComponent(image)}/json`)).status === 404) {
    complain(`image ${image} is not present on this host, and Pull=never forbids pulling it`);
    return 1;
  }
  const options = args.slice(0, dash);
  const created = await runCommand(argv);
  if (created !== 0) return created;
  const aliases = valuesOf(options, "--alias").flatMap((a) => ["--alias", a]);
  for (const { network, own } of furtherNetworks(options)) {
    const connected = await runCommand([argv[0]!, "network", "connect", ...aliases, ...own, network, name]);
    if (connected !== 0) return connected;
  }
  return 0;
};

/** A further network's own options (Network=NAME:ip=…) as `docker network connect` takes them. */
const CONNECT_OPTIONS: Readonly<Record<string, string>> = { "--connect-ip": "--ip", "--connect-ip6": "--ip6", "--connect-alias": "--alias" };

/** Each `--connect NETWORK`, with the `--connect-…` options that follow it. */
function furtherNetworks(options: readonly string[]): Array<{ network: string; own: string[] }> {
  const out: Array<{ network: string; own: string[] }> = [];
  for (let i = 0; i + 1 < options.length; i++) {
    const option = options[i]!;
    if (option === "--connect") out.push({ network: options[++i]!, own: [] });
    else if (Object.hasOwn(CONNECT_OPTIONS, option) && out.length > 0) out.at(-1)!.own.push(CONNECT_OPTIONS[option]!, options[++i]!);
  }
  return out;
}

const watch: Command = async (name, [action]) => {
  const filters = encodeURIComponent(JSON.stringify({ container: [name], type: ["container"] }));
  let acted = false;
  const events = stream(`/events?filters=${filters}`, (m) => {
    // Docker matches `container` as a prefix of names and IDs: keystone's watch also hears keystone_fernet.
    if ((m.Actor as { Attributes?: Record<string, string> } | undefined)?.Attributes?.name !== name) return false;
    const status = String(m.Action ?? m.status ?? "");
    if (status === "die" || status === "destroy") return true;
    if (status === "health_status: unhealthy" && !acted) {
      acted = true;
      complain(`${name} turned unhealthy; HealthOnFailure=${action}`);
      const req = action === "stop" ? path(name, "/stop") : path(name, "/kill?signal=SIGKILL");
      void call("POST", req).catch((e: Error) => complain(e.message));
    }
    return false;
  });
  await events.closed;
  return 0;
};

/**
 * `config UNIT RUNTIME-DIR [--restart PATH]… [--reload PATH]…`, before each start: fingerprints
 * the configuration the service is about to read, for the container's label (docker's
 * --label-file) and for berthd, which compares it with what is on disk now.
 */
const config: Command = async (unit, [runtimeDir, ...rest]) => {
  const paths = { restart: [] as string[], reload: [] as string[] };
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const kind = rest[i] === "--restart" ? "restart" : rest[i] === "--reload" ? "reload" : undefined;
    if (!kind || !runtimeDir) {
      complain("usage: config UNIT RUNTIME-DIR [--restart PATH]... [--reload PATH]...");
      return 2;
    }
    paths[kind].push(rest[i + 1]!);
  }
  const restart = readManifest(paths.restart);
  const reload = readManifest(paths.reload);
  const state: ConfigState = { label: manifestDigest(restart, reload), restart, reload };
  writeAtomically(configStateFile(runtimeDir!, unit), JSON.stringify(state) + "\n");
  writeAtomically(configLabelFile(runtimeDir!, unit), `${CONFIG_LABEL}=${state.label}\n`);
  say(`configuration ${state.label} (${Object.keys(restart).length + Object.keys(reload).length} files)`);
  return 0;
};

const commands: Record<string, Command> = { config, create, watch, ensure };

async function main(argv: string[]): Promise<number> {
  const [command, name, ...rest] = argv;
  const run = command ? commands[command] : undefined;
  if (!run || !name) {
    complain("usage: berth-container config|create|watch|ensure NAME [options]");
    return 2;
  }
  try {
    return await run(name, rest);
  } catch (e) {
    complain((e as Error).message);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
