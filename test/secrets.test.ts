import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureJournald } from "./support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { runBin } from "./support/run.js";
import { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

/**
 * Secret= end to end: credentials from the host's real credential store (/run/credstore and
 * /run/credstore.encrypted), loaded by a real systemd 252, reaching a container on the real dockerd
 * as a file and as a variable, and the values nowhere else.
 *
 * systemd builds a unit's credentials in a namespace of its own and moves the finished mount to
 * $XDG_RUNTIME_DIR/credentials/UNIT (/run/credentials/UNIT for the system manager). On a host
 * booted with systemd, PID 1 makes every mount shared, so the mount shows in the host's namespace,
 * where dockerd finds the bind source. This machine was not booted by systemd and its mounts are
 * private: there the service sees an empty directory. A shared tmpfs of our own, holding the
 * manager's runtime directory, stands in for the shared /run of a systemd host.
 */
const id = randomBytes(3).toString("hex");
const DB = `sx-${id}-db`;
const TOKEN = `sx-${id}-token`;
const LATE = `sx-${id}-late`;
// Random, so that finding one anywhere means it leaked there.
const DB_VALUE = `db-${randomBytes(12).toString("hex")}`;
const TOKEN_VALUE = `token-${randomBytes(12).toString("hex")}`;
const LATE_VALUE = `late-${randomBytes(12).toString("hex")}`;
const VALUES = [DB_VALUE, TOKEN_VALUE, LATE_VALUE];

const STORE = "/run/credstore";
const ENCRYPTED_STORE = "/run/credstore.encrypted";

const BOTH = `sx-both-${id}`;
const LATER = `sx-later-${id}`;
const definition = (secrets: string) =>
  `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\n${secrets}\nExec=sh -c "echo payload up; exec sleep 600"\n`;

interface Inspect {
  Path: string;
  Args: string[];
  Config: { Cmd: string[] | null; Entrypoint: string[] | null; Env: string[]; Labels: Record<string, string> };
  HostConfig: { Binds: string[] | null };
  Mounts: Array<{ Source: string; Destination: string; RW: boolean }>;
}

const leaked = (text: string) => VALUES.filter((v) => text.includes(v));

/** Every process's command line on this host, as `ps` and /proc show them. */
function allCommandLines(): string {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    } catch {
      // gone meanwhile
    }
  }
  return out.join("\n");
}

describe("Secret= through systemd credentials (real systemd 252, real dockerd)", () => {
  let um: UserManager;
  let shared: string;
  let since: number;
  const created: string[] = [];
  /** Every journal field of every entry since the test began: messages, but also _CMDLINE. */
  const wholeJournal = () => spawnSync("journalctl", ["--no-pager", "-o", "json", `--since=@${since}`], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }).stdout;
  const journalText = (unit: string) => um.journal(unit).map((e) => e.MESSAGE).join("\n");
  const exec = (container: string, script: string) => docker(["exec", container, "sh", "-c", script]).stdout;

  const ensureDir = (dir: string) => {
    if (existsSync(dir)) return;
    mkdirSync(dir, { mode: 0o700 });
    created.push(dir);
  };

  beforeAll(async () => {
    ensureTestImage();
    ensureJournald();
    since = Math.floor(Date.now() / 1000) - 1;
    for (const name of [BOTH, LATER]) docker(["rm", "-f", name]);
    shared = mkdtempSync("/run/berth-sx-");
    for (const args of [["-t", "tmpfs", "tmpfs", shared], ["--make-shared", shared]]) {
      const r = spawnSync("mount", args, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`mount ${args.join(" ")}: ${r.stderr}`);
    }
    ensureDir(STORE);
    ensureDir(ENCRYPTED_STORE);
    // A credential written the usual way, with a trailing newline.
    writeFileSync(join(STORE, DB), `${DB_VALUE}\n`, { mode: 0o600 });
    // Encrypted with systemd 252's null key ("tpm2-absent"), so that the test creates no host key
    // (/var/lib/systemd/credentials.secret) on a shared machine; the host key is decrypted the same way.
    const enc = spawnSync("systemd-creds", ["encrypt", "--with-key=tpm2-absent", `--name=${TOKEN}`, "-", join(ENCRYPTED_STORE, TOKEN)], { input: TOKEN_VALUE, encoding: "utf8" });
    if (enc.status !== 0) throw new Error(`systemd-creds encrypt: ${enc.stderr}`);
    um = await new UserManager({}, shared).start();
    um.writeDefinition(`${BOTH}.container`, definition([
      `Secret=${DB}`,
      `Secret=${DB},type=env,target=DB_PASSWORD`,
      `Secret=${TOKEN},target=/etc/app/token`,
      `Secret=source=${TOKEN},type=env,target=API_TOKEN`,
    ].join("\n")));
    um.writeDefinition(`${LATER}.container`, definition(`Secret=${LATE},type=env,target=LATE`));
    um.reload();
  });

  afterAll(async () => {
    await um?.stop();
    for (const name of [BOTH, LATER]) docker(["rm", "-f", name]);
    for (const [dir, name] of [[STORE, DB], [ENCRYPTED_STORE, TOKEN], [STORE, LATE]] as const) rmSync(join(dir, name), { force: true });
    for (const dir of created) rmdirSync(dir);
    if (shared) {
      spawnSync("umount", ["-R", shared]);
      rmdirSync(shared);
    }
  });

  it("the unit loads each credential the way the store holds it, and names no value", () => {
    const unit = readFileSync(join(um.generatorDir, `${BOTH}.service`), "utf8");
    expect(unit).toMatch(new RegExp(`^LoadCredential=${DB}$`, "m"));
    expect(unit).toMatch(new RegExp(`^LoadCredentialEncrypted=${TOKEN}$`, "m"));
    expect(leaked(unit)).toEqual([]);
  });

  it("the container reads the plain and the encrypted secret, as a read-only file and as a variable", async () => {
    expect(um.systemctl(["start", `${BOTH}.service`]).status).toBe(0);
    expect(um.show(`${BOTH}.service`, "ActiveState").ActiveState).toBe("active");
    // The file is systemd's credential itself, as written; the variable has no trailing newline.
    expect(exec(BOTH, `cat /run/secrets/${DB}`)).toBe(`${DB_VALUE}\n`);
    expect(exec(BOTH, "cat /etc/app/token")).toBe(TOKEN_VALUE);
    expect(exec(BOTH, `printf %s "$DB_PASSWORD"`)).toBe(DB_VALUE);
    expect(exec(BOTH, `printf %s "$API_TOKEN"`)).toBe(TOKEN_VALUE);
    expect(exec(BOTH, `stat -c '%u %g %a' /run/secrets/${DB}; echo written > /run/secrets/${DB} 2>/dev/null || echo read-only`)).toBe("0 0 400\nread-only\n");
    await waitFor("the payload's first line in the journal", () => journalText(`${BOTH}.service`).includes("payload up"));
  });

  it("no value is in the unit's ExecStart, on any command line, in docker inspect's command, or in the journal", () => {
    expect(leaked(um.show(`${BOTH}.service`, "ExecStart").ExecStart ?? "")).toEqual([]);
    // The docker CLI that runs the container attached is alive now, with the variables in its environment only.
    expect(allCommandLines()).toContain(`run --name ${BOTH}`);
    expect(leaked(allCommandLines())).toEqual([]);
    const c = (JSON.parse(docker(["inspect", BOTH]).stdout) as Inspect[])[0]!;
    const command = { Path: c.Path, Args: c.Args, Cmd: c.Config.Cmd, Entrypoint: c.Config.Entrypoint, Labels: c.Config.Labels, Binds: c.HostConfig.Binds, Mounts: c.Mounts };
    expect(leaked(JSON.stringify(command))).toEqual([]);
    expect(c.Mounts).toContainEqual(expect.objectContaining({ Source: join(um.runtime, "credentials", `${BOTH}.service`, DB), Destination: `/run/secrets/${DB}`, RW: false }));
    // Docker keeps every variable's value in the container's configuration, which its API shows to
    // whoever may use it: the man page says so, and recommends type=mount for that reason.
    expect(c.Config.Env).toContain(`DB_PASSWORD=${DB_VALUE}`);
    expect(leaked(wholeJournal())).toEqual([]);
  });

  it("a stop leaves nothing behind: no container, no credentials mount", () => {
    expect(um.systemctl(["stop", `${BOTH}.service`]).status).toBe(0);
    expect(docker(["inspect", BOTH]).status).not.toBe(0);
    expect(existsSync(join(um.runtime, "credentials", `${BOTH}.service`, DB))).toBe(false);
    expect(leaked(wholeJournal())).toEqual([]);
  });

  it("on the helper's path (a leftover container holds the name), the variables reach the container too", async () => {
    // docker run is refused (125), berth-container.js create replaces the leftover with `docker
    // create`, which inherits berth-step's environment.
    expect(docker(["run", "-d", "--name", BOTH, "--network", "none", TEST_IMAGE, "sleep", "600"]).status).toBe(0);
    expect(um.systemctl(["start", `${BOTH}.service`]).status).toBe(0);
    await waitFor("the helper's line in the journal", () => journalText(`${BOTH}.service`).includes(`removed a leftover container ${BOTH}`));
    expect(exec(BOTH, `printf %s "$DB_PASSWORD $API_TOKEN"`)).toBe(`${DB_VALUE} ${TOKEN_VALUE}`);
    expect(exec(BOTH, `cat /run/secrets/${DB}`)).toBe(`${DB_VALUE}\n`);
    expect(leaked(allCommandLines())).toEqual([]);
    expect(um.systemctl(["stop", `${BOTH}.service`]).status).toBe(0);
  });

  it("berth validate: a missing credential is an error against this host's set, a warning for another tree", () => {
    const env = { BERTH_UNIT_DIRS: um.defs };
    const candidate = join(um.root, "candidate");
    writeFileSync(candidate, definition(`Secret=${DB}\nSecret=sx-${id}-absent,type=env,target=ABSENT`));
    const here = runBin("berth", ["validate", "--as", `sx-new-${id}.container`, candidate], env);
    expect(here.status).toBe(1);
    expect(here.stderr).toContain(`${candidate}:6: error: Secret=: credential "sx-${id}-absent" is not in this host's credential store`);
    const tree = mkdtempSync(join(um.root, "tree-"));
    writeFileSync(join(tree, `sx-new-${id}.container`), readFileSync(candidate));
    const elsewhere = runBin("berth", ["validate", tree], env);
    expect(elsewhere.status).toBe(0);
    expect(elsewhere.stderr).toContain(`warning: Secret=: credential "sx-${id}-absent"`);
    expect(runBin("berth", ["validate", "--strict", tree], env).status).toBe(1);
  });

  it("a unit whose credential is missing fails each start saying so, and runs once the credential is there, without a reload", async () => {
    um.systemctl(["start", "--no-block", `${LATER}.service`]);
    await waitFor("the start to fail for the missing credential", () => journalText(`${LATER}.service`).includes(`Secret=: credential "${LATE}" was not loaded`));
    const runs = um.generatorRuns();
    writeFileSync(join(STORE, LATE), LATE_VALUE, { mode: 0o600 });
    // Restart= tries again every RestartSec=; each start loads the credentials afresh.
    await waitFor(`${LATER} to run`, () => um.show(`${LATER}.service`, "ActiveState").ActiveState === "active" && docker(["inspect", LATER]).status === 0);
    expect(exec(LATER, `printf %s "$LATE"`)).toBe(LATE_VALUE);
    expect(um.generatorRuns()).toBe(runs);
    um.systemctl(["stop", `${LATER}.service`]);
    expect(leaked(wholeJournal())).toEqual([]);
  });
});
