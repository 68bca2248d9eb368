import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, readFileSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

const berth = (args: string[], dirs: string) => runBin("berth", args, { BERTH_UNIT_DIRS: dirs });

describe("berth validate", () => {
  it("exits 0 on a valid set and says what it checked", () => {
    const root = tree({ "db.container": image(), "api.container": image("", "After=db.container") });
    const r = berth(["validate"], root);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^valid: 2 definitions in /);
  });

  it("exits 1 with file:line: error lines", () => {
    const root = tree({ "db.container": image("HealthRetries=lots") });
    const r = berth(["validate"], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(root, "db.container")}:3: error: HealthRetries=: expected a number, found "lots"`);
  });

  it("reports warnings without failing, unless --strict", () => {
    const root = tree({ "db.container": image("NewKey=1") });
    expect(berth(["validate"], root).status).toBe(0);
    expect(berth(["validate"], root).stderr).toMatch(/warning: NewKey=: unknown key/);
    expect(berth(["validate", "--strict"], root).status).toBe(1);
  });

  it("prints JSON with --json", () => {
    const root = tree({ "db.container": image("Pod=x") });
    const r = berth(["validate", "--json"], root);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; diagnostics: Array<{ line: number; severity: string; file: string }> };
    expect(out.valid).toBe(false);
    expect(out.diagnostics).toEqual([expect.objectContaining({ line: 3, severity: "error", file: join(root, "db.container") })]);
  });

  it("checks a directory given as an argument instead of the search path", () => {
    const good = tree({ "db.container": image() });
    const bad = tree({ "db.container": image("Pod=x") });
    expect(runBin("berth", ["validate", good], { BERTH_UNIT_DIRS: bad }).status).toBe(0);
  });

  it("validate --as NAME.container.d/FILE.conf says so when that drop-in directory cannot be listed", () => {
    const dir = tree({ "keystone.container": image() });
    // Root lists any directory: a link to itself is what it cannot.
    symlinkSync(join(dir, "keystone.container.d"), join(dir, "keystone.container.d"));
    const candidate = join(tree({ t: "[Container]\nEnvironment=A=1\n" }), "t");
    const r = berth(["validate", "--as", "keystone.container.d/10-a.conf", candidate], dir);
    expect(r.stdout + r.stderr).toContain(`${candidate}: error: cannot list ${join(dir, "keystone.container.d")} (ELOOP), where it would go: the drop-ins beside it are unknown`);
    expect(r.status).toBe(1);
  });

  it("works as Ansible's `validate: berth validate --as NAME.container %s`, in context of the set", () => {
    const dir = tree({ "db.container": image("PublishPort=3306:3306"), "keystone.container": image() });
    const tmp = tree({ "ansible-tmp-xyz": image("PublishPort=5000:5000", "After=db.container") });
    const candidate = join(tmp, "ansible-tmp-xyz");
    expect(berth(["validate", "--as", "keystone.container", candidate], dir).status).toBe(0);
    // Ansible's temporary file belongs to its remote user, in that user's home: its content is
    // what is checked; the task that installs it sets owner and mode.
    chownSync(tmp, 1000, 1000);
    chownSync(candidate, 1000, 1000);
    chmodSync(candidate, 0o666);
    expect(berth(["validate", "--as", "keystone.container", candidate], dir)).toMatchObject({ status: 0, stderr: "" });
    // The candidate would clash with a port another definition holds…
    const clash = tree({ "t": image("PublishPort=3306:3306") });
    const r = berth(["validate", "--as", "keystone.container", join(clash, "t")], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(clash, "t")}:3: error: PublishPort=: host port 3306/tcp is already published`);
    // …or depend on something that is not there.
    const missing = tree({ "t": image("", "Requires=nova.container") });
    expect(berth(["validate", "--as", "keystone.container", join(missing, "t")], dir).status).toBe(1);
    // Problems elsewhere in the directory are not the candidate's fault.
    const broken = tree({ "db.container": image("Pod=x"), "keystone.container": image() });
    expect(berth(["validate", "--as", "keystone.container", candidate], broken).status).toBe(0);
  });

  it("checks a drop-in candidate (`--as NAME.container.d/FILE.conf`) in place of that drop-in, with the definitions it applies to", () => {
    const dir = tree({
      "db.container": image("PublishPort=3306:3306"),
      "api.container": image(),
      "api.container.d/10-host.conf": "[Container]\nEnvironment=A=1\n",
    });
    const candidate = (text: string) => join(tree({ "ansible-tmp": text }), "ansible-tmp");
    expect(berth(["validate", "--as", "api.container.d/10-host.conf", candidate("[Container]\nEnvironment=A=2\n")], dir)).toMatchObject({ status: 0, stderr: "" });
    // Its errors are named by the candidate's path and line.
    const typo = candidate("[Container]\nEnvironment=A=2\nHealthRetries=lots\n");
    const r = berth(["validate", "--as", "/etc/berth/api.container.d/10-host.conf", typo], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${typo}:3: error: HealthRetries=: expected a number, found "lots"`);
    // A top-level drop-in applies to every definition, and is checked with each of them.
    const clash = candidate("[Container]\nPublishPort=3306:3306\n");
    expect(berth(["validate", "--as", "container.d/20-all.conf", clash], dir).stderr).toContain(`${clash}:2: error: PublishPort=: host port 3306/tcp is already published`);
    // With no definition to apply to, it is still parsed, and said to apply to nothing.
    const alone = berth(["validate", "--as", "nova.container.d/x.conf", candidate("[Container]\nno equals sign\n")], dir);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toMatch(/:2: error: expected Key=Value/);
    expect(alone.stderr).toMatch(/warning: .*nova\.container\.d\/x\.conf applies to no definition/);
    expect(berth(["validate", "--as", "api.container.d/.hidden.conf", candidate("")], dir).status).toBe(1);
  });

  it("shows errors in a checked file's drop-ins", () => {
    const dir = tree({ "db.container": image(), "db.container.d/x.conf": "[Container]\nbroken line\n" });
    const r = berth(["validate", join(dir, "db.container")], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "db.container.d/x.conf")}:2: error: expected Key=Value`);
  });

  it("refuses a device or a FIFO given as the file to check, without reading or blocking", () => {
    const dir = tree({ "db.container": image() });
    const zero = berth(["validate", "--as", "x.container", "/dev/zero"], dir);
    expect(zero.status).toBe(1);
    expect(zero.stderr).toContain("/dev/zero: error: is a character device, not a regular file");
    const fifo = join(tree({}), "f");
    execFileSync("mkfifo", [fifo]);
    expect(berth(["validate", "--as", "x.container", fifo], dir).stderr).toContain(`${fifo}: error: is a FIFO`);
  });

  it("refuses usage errors with status 2", () => {
    expect(berth(["validate", "--stirct"], "/tmp").status).toBe(2);
    expect(berth(["validate", "/no/such/file"], "/tmp").status).toBe(2);
    expect(berth(["frobnicate"], "/tmp").status).toBe(2);
  });
});

describe("berth render", () => {
  it("prints the unit exactly as the generator writes it", () => {
    const root = tree({ "db.container": image("", "Description=Database") });
    const out = tree({});
    expect(runBin("berth-generator", [out, out, out], { BERTH_UNIT_DIRS: root }).status).toBe(0);
    const r = berth(["render", "db"], root);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(out, "db.service"), "utf8"));
    expect(berth(["render", "db.service"], root).stdout).toBe(r.stdout);
  });

  it("renders a file that is not installed yet, and fails on an invalid one", () => {
    const root = tree({});
    const file = join(tree({ "new.container": image("Exec=sleep 1") }), "new.container");
    const r = berth(["render", file], root);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ExecStart=.* create --name new /m);
    const bad = join(tree({ "bad.container": image("Pod=x") }), "bad.container");
    const b = berth(["render", bad], root);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/bad.container:3: error: Pod=/);
  });

  it("names a file given by a relative path absolutely in SourcePath=, which systemd requires", () => {
    const file = join(tree({ "new.container": image() }), "new.container");
    const r = berth(["render", relative(process.cwd(), file)], tree({}));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`\nSourcePath=${file}\n`);
  });
});

describe("berth status, plan and apply without a manager to talk to", () => {
  it.each(["status", "plan", "apply"])("%s says so in one line, without a stack trace", (command) => {
    const defs = tree({ "db.container": image() });
    const r = runBin("berth", [command], { BERTH_UNIT_DIRS: defs, DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/nonexistent/bus", DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^berth: cannot reach (the system manager over D-Bus|Docker)[^\n]*\n$/);
  });
});
