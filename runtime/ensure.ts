import { spawn } from "node:child_process";
import { SPEC_LABEL, UNIT_LABEL } from "../generator/labels.js";
import { call } from "./docker-socket.js";

const say = (text: string): void => void process.stdout.write(text + "\n");
const complain = (text: string): void => void process.stderr.write(text + "\n");

/** Runs a docker command with the unit's stderr; its status is the result. */
export function runCommand(argv: readonly string[], stdout: "ignore" | "inherit" = "ignore"): Promise<number> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", stdout, "inherit"] });
  return new Promise((resolve) => {
    child.on("error", (e) => {
      complain(`cannot run ${argv[0]}: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

interface Inspected {
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string }> | null;
}

/** An image, by Policy=: pulled (always, newer), pulled only when absent (missing), or required (never). */
async function ensureImage(name: string, policy: string, argv: readonly string[]): Promise<number> {
  if (policy !== "always" && policy !== "newer") {
    if ((await call("GET", `/images/${encodeURIComponent(name)}/json`)).status === 200) {
      say(`image ${name} is present`);
      return 0;
    }
    if (policy === "never") {
      complain(`image ${name} is not present on this host, and Policy=never forbids pulling it`);
      return 1;
    }
  }
  return runCommand(argv, "inherit");
}

/**
 * A network or volume made by its create command unless it exists. One that exists is kept when
 * it carries this definition's spec, or was not made by berth (Quadlet's `--ignore`: someone made
 * it on purpose). One berth made from other settings is made anew if it is a network nothing is
 * connected to (a network still in use fails the unit); a volume is kept as it is, with a
 * warning, since removing it would delete its data.
 */
async function ensureObject(kind: "network" | "volume", name: string, argv: readonly string[]): Promise<number> {
  const path = `/${kind}s/${encodeURIComponent(name)}`;
  const r = await call("GET", path);
  if (r.status === 404) return runCommand(argv);
  if (r.status !== 200) throw new Error(`cannot inspect ${kind} ${name}: ${r.body.trim()}`);
  const info = JSON.parse(r.body) as Inspected;
  const labels = info.Labels ?? {};
  const spec = labels[SPEC_LABEL];
  if (spec !== undefined && argv.includes(`${SPEC_LABEL}=${spec}`)) {
    say(`${kind} ${name} exists with these settings`);
    return 0;
  }
  if (labels[UNIT_LABEL] === undefined) {
    say(`${kind} ${name} exists and was not made by berth; it is used as it is, its settings unchanged`);
    return 0;
  }
  if (kind === "volume") {
    // Failing would stop every container that uses it, for settings it cannot change anyway.
    complain(`<4>volume ${name} exists with other settings (an earlier version of this definition) and is used as it is: berth never removes a volume, since that deletes its data; remove it yourself (docker volume rm ${name}) to have it made anew`);
    return 0;
  }
  const users = Object.values(info.Containers ?? {}).map((c) => c.Name ?? "?");
  if (users.length > 0) {
    complain(`network ${name} exists with other settings, and ${users.join(", ")} still use it; stop them, then start this unit again to make it anew`);
    return 1;
  }
  const removed = await call("DELETE", path);
  if (removed.status !== 204 && removed.status !== 404) throw new Error(`cannot remove network ${name}: ${removed.body.trim()}`);
  say(`network ${name} had other settings (an earlier version of this definition); removed, to be made anew`);
  return runCommand(argv);
}

/** `ensure NAME network|volume|image [--policy POLICY] -- DOCKER ARGS…`: makes a unit's Docker object exist as defined. */
export async function ensure(name: string, args: string[]): Promise<number> {
  const dash = args.indexOf("--");
  const argv = dash >= 0 ? args.slice(dash + 1) : [];
  const kind = args[0];
  if (argv.length < 2 || (kind !== "network" && kind !== "volume" && kind !== "image")) {
    complain("ensure: expected NAME network|volume|image [--policy POLICY] -- DOCKER ARGS");
    return 2;
  }
  if (kind !== "image") return ensureObject(kind, name, argv);
  const p = args.indexOf("--policy");
  return ensureImage(name, p >= 0 && p < dash ? args[p + 1]! : "always", argv);
}
