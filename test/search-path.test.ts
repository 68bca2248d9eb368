import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSet } from "../generator/load-set.js";
import { dropInDirNames, sharedDataDir, unitDirs } from "../generator/search-path.js";
import { createArgv, unitValues } from "./support/translate-helpers.js";
import { image, tree } from "./support/tree.js";

const load = (...dirs: string[]) => loadSet({ scope: "system", dirs });
const unit = (set: ReturnType<typeof load>, name: string) => set.all.find((u) => u.unitName === name);

describe("search directories", () => {
  it("uses /etc, /run, /usr/lib for the system and XDG directories for a user; BERTH_UNIT_DIRS replaces them", () => {
    expect(unitDirs("system", {})).toEqual(["/etc/berth", "/run/berth", "/usr/lib/berth"]);
    expect(unitDirs("user", { HOME: "/home/u", XDG_RUNTIME_DIR: "/run/user/1" })).toEqual(["/home/u/.config/berth", "/run/user/1/berth"]);
    expect(unitDirs("user", { XDG_CONFIG_HOME: "/cfg", HOME: "/h" })).toEqual(["/cfg/berth"]);
    expect(unitDirs("system", { BERTH_UNIT_DIRS: "/a:/b" })).toEqual(["/a", "/b"]);
  });

  it("writes %D as systemd 256 means it for the manager: /usr/share, or a user's data home", () => {
    expect(sharedDataDir("system", { XDG_DATA_HOME: "/home/u/data" })).toBe("/usr/share");
    expect(sharedDataDir("user", { HOME: "/home/u" })).toBe("/home/u/.local/share");
    expect(sharedDataDir("user", { XDG_DATA_HOME: "/home/u/data", HOME: "/home/u" })).toBe("/home/u/data");
    // Neither a relative path (systemd ignores it) nor one that would mean more in a unit.
    expect(sharedDataDir("user", { XDG_DATA_HOME: "data", HOME: "/home/u" })).toBe("/home/u/.local/share");
    expect(sharedDataDir("user", { XDG_DATA_HOME: "/home/u/$x%n", HOME: "/home/%u" })).toBe("%h/.local/share");
    expect(sharedDataDir("user", {})).toBe("%h/.local/share");
  });

  it("lets a file in an earlier directory mask a same-named later one", () => {
    const root = tree({
      "etc/web.container": image("HostName=admin"),
      "usr/web.container": image("HostName=vendor"),
      "usr/db.container": image(),
    });
    const set = load(join(root, "etc"), join(root, "run"), join(root, "usr"));
    expect(set.all.map((u) => u.unitName).sort()).toEqual(["db.service", "web.service"]);
    expect(createArgv(unit(set, "web.service")!)).toContain("admin");
    expect(unitValues(unit(set, "web.service")!, "SourcePath")).toEqual([join(root, "etc/web.container")]);
  });

  it("treats an empty file or a link to /dev/null as masking the name", () => {
    const root = tree({ "etc/web.container": { link: "/dev/null" }, "etc/db.container": "", "usr/web.container": image(), "usr/db.container": image() });
    expect(load(join(root, "etc"), join(root, "usr")).all).toEqual([]);
  });

  it("walks subdirectories and skips dot-files and editor leftovers", () => {
    const root = tree({
      "etc/openstack/keystone.container": image(),
      "etc/.keystone.container.swp": "junk",
      "etc/.ansible_tmp123keystone.container": "junk",
      "etc/keystone.container~": "junk",
    });
    expect(load(join(root, "etc")).all.map((u) => u.unitName)).toEqual(["keystone.service"]);
  });

  it("reports a file whose name cannot be a unit", () => {
    const root = tree({ "etc/bad name.container": image() });
    expect(load(join(root, "etc")).diagnostics[0]!.message).toMatch(/not a valid definition name/);
  });
});

describe("drop-ins", () => {
  it("are looked up in name, template, dash-prefix and top-level directories, most specific first", () => {
    expect(dropInDirNames("nova-api", "container")).toEqual(["nova-api.container.d", "nova-.container.d", "container.d"]);
    expect(dropInDirNames("nova-cell@one", "container", "nova-cell@")).toEqual(["nova-cell@one.container.d", "nova-cell@.container.d", "nova-.container.d", "container.d"]);
    expect(dropInDirNames("db-main", "network")).toEqual(["db-main.network.d", "db-.network.d", "network.d"]);
  });

  it("merge in file-name order across directories; a same-named drop-in in an earlier directory wins", () => {
    const root = tree({
      "usr/nova-api.container": image("Environment=A=vendor\nVolume=/v:/v"),
      "usr/nova-api.container.d/10-site.conf": "[Container]\nEnvironment=B=vendor-dropin\n",
      "etc/nova-api.container.d/10-site.conf": "[Container]\nEnvironment=B=admin-dropin\n",
      "etc/nova-.container.d/20-all-nova.conf": "[Container]\nEnvironment=C=nova\n",
      "run/container.d/30-host.conf": "[Container]\nVolume=\nVolume=/host:/host\n[Service]\nTimeoutStartSec=600\n",
      "etc/nova-api.container.d/not-a-conf.txt": "[Container]\nEnvironment=D=ignored\n",
    });
    const set = load(join(root, "etc"), join(root, "run"), join(root, "usr"));
    const u = unit(set, "nova-api.service")!;
    const argv = createArgv(u);
    expect(argv.filter((a, i) => argv[i - 1] === "--env")).toEqual(["A=vendor", "B=admin-dropin", "C=nova"]);
    expect(argv.filter((a, i) => argv[i - 1] === "--volume")).toEqual(["/host:/host"]);
    expect(unitValues(u, "TimeoutStartSec")).toEqual(["600"]);
  });

  it("can change a single value such as the image without owning the file", () => {
    const root = tree({
      "etc/keystone.container": image("Exec=kolla_start"),
      "etc/keystone.container.d/image.conf": "[Container]\nImage=kolla/keystone:2025.2\n",
    });
    expect(createArgv(load(join(root, "etc")).all[0]!).slice(-2)).toEqual(["kolla/keystone:2025.2", "kolla_start"]);
  });

  it("report errors against the drop-in's own file and line", () => {
    const root = tree({ "etc/a.container": image(), "etc/a.container.d/x.conf": "[Container]\n\nHealthRetries=many\n" });
    const d = load(join(root, "etc")).diagnostics.find((x) => x.severity === "error")!;
    expect([d.file, d.line]).toEqual([join(root, "etc/a.container.d/x.conf"), 3]);
  });
});

describe("templates and instances", () => {
  it("generate foo@.service from foo@.container, and instances from files or symlinks", () => {
    const root = tree({
      "etc/worker@.container": image("Exec=work %i"),
      "etc/worker@blue.container": { link: "worker@.container" },
      "etc/worker@green.container.d/x.conf": "[Container]\nEnvironment=COLOUR=green\n",
      "etc/worker@green.container": image("Exec=work green"),
    });
    const set = load(join(root, "etc"));
    expect(set.all.map((u) => [u.unitName, u.containerName])).toEqual([
      ["worker@.service", "worker-%i"],
      ["worker@blue.service", "worker-blue"],
      ["worker@green.service", "worker-green"],
    ]);
    expect(createArgv(unit(set, "worker@.service")!).slice(-2)).toEqual(["work", "%i"]);
    expect(createArgv(unit(set, "worker@green.service")!)).toContain("COLOUR=green");
  });

  it("applies the template's drop-ins to its instances", () => {
    const root = tree({
      "etc/worker@.container": image(),
      "etc/worker@a.container": { link: "worker@.container" },
      "etc/worker@.container.d/x.conf": "[Container]\nEnvironment=FROM=template\n",
    });
    expect(createArgv(unit(load(join(root, "etc")), "worker@a.service")!)).toContain("FROM=template");
  });
});
