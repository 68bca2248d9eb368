import { spawnSync } from "node:child_process";
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, agentOnFreshManager, printAgentLogOnFailure } from "./support/agent.js";
import { ensureJournald } from "./support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { keptBy } from "./support/kept-run.js";
import { repo, runBin } from "./support/run.js";
import { UserManager } from "./support/user-manager.js";
import { LocalRegistry } from "./support/registry.js";
import { waitFor } from "./support/wait.js";

const def = (body = "", unit = "") => `${unit ? `[Unit]\n${unit}\n` : ""}[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\nExec=sleep 600\n${body}`;
const containerId = (name: string) => docker(["inspect", "-f", "{{.Id}}", name]).stdout.trim();

describe("berthd against a real systemd, D-Bus and dockerd", () => {
  let um: UserManager;
  let agent: Agent;
  const active = (unit: string) => um.show(unit, "ActiveState").ActiveState === "active";
  const berth = (...args: string[]) => spawnSync(process.execPath, [`${repo}bin/berth`, "--user", ...args], { env: um.env, encoding: "utf8" });
  printAgentLogOnFailure(() => agent);

  beforeAll(async () => {
    ensureTestImage();
    for (let i = 0; i < 50; i++) docker(["rm", "-f", `burst${i}`]);
    docker(["rm", "-f", "ag-a", "ag-b", "ag-c", "ag-slow", "ag-new", "ag-bus", "ag-ren", "ag-p1", "ag-p2", "ag-pf", "ag-pod-infra", "ag-pm", "ag-nc", "ag-n12"]);
    docker(["network", "rm", "ag-net", "ag-blocker", "ag-n1", "ag-n2", "ag-blocker2"]);
    ({ um, agent } = await agentOnFreshManager());
  });

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    for (let i = 0; i < 50; i++) docker(["rm", "-f", `burst${i}`]);
    docker(["rm", "-f", "ag-a", "ag-b", "ag-c", "ag-slow", "ag-new", "ag-bus", "ag-ren", "tw-one", "tw-two", "ag-p1", "ag-p2", "ag-pf", "ag-pod-infra", "ag-pm", "ag-nc", "ag-n12"]);
    docker(["network", "rm", "ag-net", "ag-blocker", "ag-n1", "ag-n2", "ag-blocker2"]);
  });

  it("a dropped file becomes an active unit", async () => {
    um.writeDefinition("ag-a.container", def("Environment=V=1"));
    um.writeDefinition("ag-b.container", def());
    await waitFor("ag-a and ag-b active", () => active("ag-a.service") && active("ag-b.service"));
    expect(containerId("ag-a")).not.toBe("");
  });

  it("an edit restarts only that service", async () => {
    const a = containerId("ag-a");
    const b = containerId("ag-b");
    const mark = agent.mark;
    um.writeDefinition("ag-a.container", def("Environment=V=2"));
    await agent.reconciled(mark);
    await waitFor("ag-a replaced", () => active("ag-a.service") && containerId("ag-a") !== a && containerId("ag-a"));
    expect(docker(["inspect", "-f", "{{.Config.Env}}", "ag-a"]).stdout).toContain("V=2");
    expect(containerId("ag-b")).toBe(b);
    expect(um.show("ag-b.service", "NRestarts").NRestarts).toBe("0");
    // The generator's run on berthd's daemon-reload wrote what berthd had translated for it (had
    // it translated again, it would have kept its own run in place of berthd's): what a full
    // translation writes.
    const kept = readFileSync(join(um.runtime, "berth-generator/kept-run"), "utf8");
    expect(keptBy(kept)).toBe("berthd");
    const out = join(um.root, "translated");
    expect(runBin("berth-generator", [out, out, out], { ...um.env, SYSTEMD_SCOPE: "user", BERTH_GENERATOR_CACHE: "off" }).status).toBe(0);
    for (const unit of ["ag-a.service", "ag-b.service", "berth.target"]) expect(readFileSync(join(um.generatorDir, unit), "utf8")).toBe(readFileSync(join(out, unit), "utf8"));
    expect(readFileSync(join(um.generatorDir, "ag-a.service"), "utf8")).toContain("--env V=2 ");
  });

  it("a dropped pod runs with its member; an edit of the pod restarts it, and the member comes back in its new network namespace", async () => {
    const pod = (label: string) => `[Pod]\nPodName=ag-pod\nNetwork=none\nLabel=v=${label}\n`;
    um.writeDefinition("ag-pod.pod", pod("1"));
    um.writeDefinition("ag-pm.container", `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nExec=sleep 600\nPod=ag-pod.pod\n`);
    await waitFor("the pod and its member active", () => active("ag-pod-pod.service") && active("ag-pm.service"));
    const [holder, member] = [containerId("ag-pod-infra"), containerId("ag-pm")];
    const b = containerId("ag-b");
    const mark = agent.mark;
    um.writeDefinition("ag-pod.pod", pod("2"));
    await agent.reconciled(mark);
    await waitFor("a new holder and member", () => active("ag-pod-pod.service") && active("ag-pm.service") && containerId("ag-pod-infra") !== holder && ![member, ""].includes(containerId("ag-pm")));
    expect(docker(["inspect", "-f", "{{.Config.Labels.v}}", "ag-pod-infra"]).stdout.trim()).toBe("2");
    expect(docker(["inspect", "-f", "{{.HostConfig.NetworkMode}}", "ag-pm"]).stdout.trim()).toMatch(/^container:(ag-pod-infra|[0-9a-f]{64})$/);
    expect(containerId("ag-b")).toBe(b);
    // Applied and recorded: the next reconcile finds nothing to do.
    expect(berth("plan").stdout).not.toMatch(/^(start|restart)\s+ag-/m);
  });

  it("an edit of a pod and of its member together restarts the member once, with the pod", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const mark = agent.mark;
    // Stopped while both files change, so that berthd sees them in one batch.
    process.kill(agent.pid!, "SIGSTOP");
    um.writeDefinition("ag-pod.pod", `[Pod]\nPodName=ag-pod\nNetwork=none\nLabel=v=3\n`);
    um.writeDefinition("ag-pm.container", `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nExec=sleep 600\nPod=ag-pod.pod\nLabel=v=3\n`);
    process.kill(agent.pid!, "SIGCONT");
    expect(await agent.reconciled(mark)).toMatch(/0 started, 2 restarted/);
    expect(docker(["inspect", "-f", "{{.Config.Labels.v}}", "ag-pm"]).stdout.trim()).toBe("3");
    const created = docker(["events", "--since", since, "--until", (Date.now() / 1000).toFixed(3), "--filter", "type=container", "--filter", "event=create", "--format", "{{.Actor.Attributes.name}}"]).stdout;
    expect(created.split("\n").filter((n) => n === "ag-pm")).toEqual(["ag-pm"]);
    expect(agent.lines.slice(mark).some((l) => /ag-pm\.service: restarting with ag-pod-pod\.service/.test(l.msg))).toBe(true);
    expect(berth("plan").stdout).not.toMatch(/^(start|restart)\s+ag-/m);
  });

  it("a network whose new version fails to start takes its containers down with it, and berthd starts them again once the network is fixed", async () => {
    const network = (subnet: string) => `[Network]\nNetworkName=ag-net\nSubnet=${subnet}\n`;
    um.writeDefinition("ag-net.network", network("10.231.0.0/24"));
    um.writeDefinition("ag-nc.container", `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nExec=sleep 600\nNetwork=ag-net.network\n`);
    await waitFor("the network and its container active", () => active("ag-net-network.service") && active("ag-nc.service"));
    // Docker refuses a subnet that another network has.
    docker(["network", "create", "--subnet", "10.232.0.0/24", "ag-blocker"]);
    let mark = agent.mark;
    um.writeDefinition("ag-net.network", network("10.232.0.0/24"));
    await agent.waitForLog(/ag-nc\.service: stopped with ag-net-network\.service, whose restart failed; started again once it is up/, mark);
    expect(um.show("ag-nc.service", "ActiveState").ActiveState).not.toBe("active");
    expect(berth("plan").stdout).toMatch(/^start\s+ag-nc\.service\s+\(stopped with the restart of ag-net-network\.service\)/m);
    // Noted where berthd and berth apply both find it, across a restart of either.
    const noted = () => JSON.parse(readFileSync(join(um.state, "stopped-by.json"), "utf8")) as Record<string, string>;
    expect(noted()).toEqual({ "ag-nc.service": "ag-net-network.service" });
    mark = agent.mark;
    um.writeDefinition("ag-net.network", network("10.233.0.0/24"));
    await waitFor("the container back on the fixed network", () => active("ag-net-network.service") && active("ag-nc.service"));
    expect(docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "ag-net"]).stdout.trim()).toBe("10.233.0.0/24");
    expect(docker(["inspect", "-f", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}", "ag-nc"]).stdout.trim()).toBe("ag-net");
    await agent.idle();
    expect(berth("plan").stdout).not.toMatch(/^(start|restart)\s+ag-/m);
    expect(noted()).toEqual({});
  });

  it("a container on two networks, whose one restart fails while the other's succeeds, is started again once the failed one is fixed", async () => {
    const network = (name: string, subnet: string) => `[Network]\nNetworkName=${name}\nSubnet=${subnet}\n`;
    um.writeDefinition("ag-n1.network", network("ag-n1", "10.234.0.0/24"));
    um.writeDefinition("ag-n2.network", network("ag-n2", "10.235.0.0/24"));
    um.writeDefinition("ag-n12.container", `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nExec=sleep 600\nNetwork=ag-n1.network\nNetwork=ag-n2.network\n`);
    await waitFor("both networks and the container active", () => active("ag-n1-network.service") && active("ag-n2-network.service") && active("ag-n12.service"));
    docker(["network", "create", "--subnet", "10.236.0.0/24", "ag-blocker2"]);
    let mark = agent.mark;
    // Both changed in one batch: ag-n1 overlaps the blocker, ag-n2 restarts fine after it.
    process.kill(agent.pid!, "SIGSTOP");
    um.writeDefinition("ag-n1.network", network("ag-n1", "10.236.0.0/24"));
    um.writeDefinition("ag-n2.network", network("ag-n2", "10.237.0.0/24"));
    process.kill(agent.pid!, "SIGCONT");
    await agent.waitForLog(/ag-n12\.service: stopped with ag-n1-network\.service, whose restart failed/, mark);
    await agent.idle();
    expect(um.show("ag-n12.service", "ActiveState").ActiveState).not.toBe("active");
    expect(berth("plan").stdout).toMatch(/^start\s+ag-n12\.service\s+\(stopped with the restart of/m);
    mark = agent.mark;
    um.writeDefinition("ag-n1.network", network("ag-n1", "10.238.0.0/24"));
    await waitFor("the container back on both networks", () => active("ag-n1-network.service") && active("ag-n12.service"));
    expect(docker(["inspect", "-f", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", "ag-n12"]).stdout.trim().split(" ").sort()).toEqual(["ag-n1", "ag-n2"]);
  });

  it("a definition directory that cannot be listed leaves its services running, across a daemon-reload, until it can be again", async () => {
    const ids = [containerId("ag-a"), containerId("ag-b")];
    let mark = agent.mark;
    // Root can list any directory: a link to itself is what it cannot (ELOOP), as EIO on a failing disk.
    renameSync(um.defs, `${um.defs}.real`);
    symlinkSync(um.defs, um.defs);
    process.kill(agent.pid!, "SIGHUP");
    const summary = await agent.reconciled(mark);
    expect(summary).toMatch(/ 0 stopped/);
    await agent.waitForLog(/cannot list it \(ELOOP\); the definitions at or under it keep their last accepted versions/, mark);
    expect(agent.lines.slice(mark).some((l) => /definition gone/.test(l.msg))).toBe(false);
    // The generator writes the last accepted versions too: the units stay loaded, not "not-found".
    um.reload();
    expect([um.show("ag-a.service", "LoadState").LoadState, um.show("ag-b.service", "LoadState").LoadState]).toEqual(["loaded", "loaded"]);
    expect([active("ag-a.service"), active("ag-b.service")]).toEqual([true, true]);
    expect([containerId("ag-a"), containerId("ag-b")]).toEqual(ids);
    mark = agent.mark;
    rmSync(um.defs);
    renameSync(`${um.defs}.real`, um.defs);
    process.kill(agent.pid!, "SIGHUP");
    expect(await agent.reconciled(mark)).toMatch(/0 started, 0 restarted, 0 stopped/);
    expect([containerId("ag-a"), containerId("ag-b")]).toEqual(ids);
  });

  it("an invalid edit leaves the service untouched and reports the error, also across a daemon-reload", async () => {
    const a = containerId("ag-a");
    const mark = agent.mark;
    um.writeDefinition("ag-a.container", def("Environment=V=3\nHealthRetries=many"));
    const message = await agent.waitForLog(/ag-a\.container:\d+: error: HealthRetries=/, mark);
    expect(message).toContain(`${join(um.defs, "ag-a.container")}:7: error: HealthRetries=: expected a number`);
    await agent.reconciled(mark);
    expect(containerId("ag-a")).toBe(a);
    // Someone else reloads systemd: the generator keeps the last accepted version.
    um.reload();
    expect(readFileSync(join(um.generatorDir, "ag-a.service"), "utf8")).toContain("V=2");
    expect(um.systemctl(["restart", "ag-a.service"]).status).toBe(0);
    expect(docker(["inspect", "-f", "{{.Config.Env}}", "ag-a"]).stdout).toContain("V=2");
    const status = berth("status");
    expect(status.stdout).toMatch(/ag-a\.service: .*HealthRetries=: expected a number/);
    const json = JSON.parse(berth("status", "--json").stdout) as Array<{ unit: string; active: string; container: string; error: string }>;
    expect(json.find((r) => r.unit === "ag-a.service")).toMatchObject({ active: "active", container: "running", error: expect.stringContaining("HealthRetries") });
    // Fixing the file applies the fix.
    const fix = agent.mark;
    um.writeDefinition("ag-a.container", def("Environment=V=4"));
    await agent.reconciled(fix);
    await waitFor("ag-a with V=4", () => active("ag-a.service") && docker(["inspect", "-f", "{{.Config.Env}}", "ag-a"]).stdout.includes("V=4"));
  });

  it("a deletion stops the service and its unit is gone, once the file has stayed deleted", async () => {
    const mark = agent.mark;
    rmSync(join(um.defs, "ag-b.container"));
    await agent.reconciled(mark);
    // Not at once: tools that delete and recreate, or a git checkout, must not stop a service.
    expect(active("ag-b.service")).toBe(true);
    await waitFor("ag-b stopped and gone", () => {
      const s = um.show("ag-b.service", "LoadState", "ActiveState");
      return s.LoadState === "not-found" && s.ActiveState === "inactive";
    });
    expect(docker(["inspect", "ag-b"]).status).not.toBe(0);
  });

  it("a definition deleted and written again at once leaves its service alone", async () => {
    const a = containerId("ag-a");
    const text = readFileSync(join(um.defs, "ag-a.container"), "utf8");
    const mark = agent.mark;
    rmSync(join(um.defs, "ag-a.container"));
    await agent.waitForLog(/ag-a\.service: definition gone/, mark);
    const back = agent.mark;
    um.writeDefinition("ag-a.container", text);
    // The grace period ends with a look at the deletion: the file is back, so nothing stops.
    await agent.waitForLog(/^reconciling \(.*a deletion settled/, back);
    expect(await agent.reconciled(back)).toMatch(/0 started, 0 restarted, 0 stopped/);
    await agent.idle();
    expect(agent.lines.slice(mark).some((l) => /ag-a\.service: (stopping|restarting)/.test(l.msg))).toBe(false);
    expect(containerId("ag-a")).toBe(a);
    expect(active("ag-a.service")).toBe(true);
  });

  it("a burst of 50 files written by temp-and-rename causes exactly one Reload", async () => {
    await agent.idle();
    const before = um.generatorRuns();
    const mark = agent.mark;
    for (let i = 0; i < 50; i++) um.writeDefinition(`burst${i}.container`, def());
    await agent.reconciled(mark);
    expect(um.generatorRuns() - before).toBe(1);
    for (let i = 0; i < 50; i++) expect(active(`burst${i}.service`)).toBe(true);
    // Cleaning up is another batch; deletions are acted on once they have stayed deleted.
    const mark2 = agent.mark;
    for (let i = 0; i < 50; i++) rmSync(join(um.defs, `burst${i}.container`));
    await agent.waitForLog(/definition gone; stopping if it is still gone/, mark2);
    await agent.waitForLog(/^reconciling \(.*a deletion settled/, mark2);
    await waitFor("the burst stopped", () => !active("burst0.service") && !active("burst49.service"));
    await agent.idle();
  });

  it("a changed ServiceName= stops the old unit and starts the new one with the container", async () => {
    let mark = agent.mark;
    um.writeDefinition("ag-ren.container", def());
    await agent.reconciled(mark);
    await waitFor("ag-ren active", () => active("ag-ren.service"));
    mark = agent.mark;
    um.writeDefinition("ag-ren.container", def("ServiceName=ag-renamed"));
    expect(await agent.reconciled(mark)).toMatch(/1 started, 0 restarted, 1 stopped/);
    await waitFor("ag-renamed active", () => active("ag-renamed.service"));
    expect(um.show("ag-ren.service", "ActiveState", "LoadState")).toEqual({ ActiveState: "inactive", LoadState: "not-found" });
    expect(docker(["inspect", "-f", "{{.State.Running}} {{index .Config.Labels \"io.berth.unit\"}}", "ag-ren"]).stdout.trim()).toBe("true ag-renamed.service");
    rmSync(join(um.defs, "ag-ren.container"));
    await waitFor("ag-renamed stopped", () => !active("ag-renamed.service"));
  });

  it("survives a systemd daemon-reexec", async () => {
    await agent.idle();
    let mark = agent.mark;
    expect(um.systemctl(["daemon-reexec"]).status).toBe(0);
    // It notices (systemd's new bus name), subscribes again and resyncs.
    await agent.waitForLog(/^reconciling \(.*systemd re-executed/, mark);
    await agent.idle();
    mark = agent.mark;
    um.writeDefinition("ag-c.container", def());
    const done = await agent.reconciled(mark);
    expect(done).toMatch(/1 started/);
    expect(active("ag-c.service")).toBe(true);
    expect(agent.lines.slice(mark).some((l) => /StartUnit ended/.test(l.msg))).toBe(false);
  });

  it("reconnects after the bus crashed and came back, and applies what changed meanwhile", async () => {
    await agent.idle();
    const mark = agent.mark;
    await um.crashBus();
    await agent.waitForLog(/^lost systemd's bus: /, mark);
    um.writeDefinition("ag-bus.container", def());
    await waitFor("ag-bus active", () => active("ag-bus.service"));
    expect(agent.lines.slice(mark).some((l) => /StartUnit ended/.test(l.msg))).toBe(false);
    // Job results still arrive: the new connection has its match rules and subscription back.
    await agent.waitForLog(/^reconciling \(.*reconnecting to systemd/, mark);
    await agent.idle();
    const edit = agent.mark;
    um.writeDefinition("ag-bus.container", def("Environment=V=2"));
    expect(await agent.reconciled(edit)).toMatch(/0 started, 1 restarted, 0 stopped/);
    rmSync(join(um.defs, "ag-bus.container"));
    await waitFor("ag-bus stopped", () => !active("ag-bus.service"));
  });

  it("killed with -9 in the middle of an apply, a restarted agent converges with no needless restarts", async () => {
    const before = { a: containerId("ag-a"), c: containerId("ag-c") };
    const mark = agent.mark;
    um.writeDefinition("ag-slow.container", def(`Exec=fake-service\nEnvironment=PORT=9000 DELAY=3\nHealthCmd=nc -w 1 127.0.0.1 9000 </dev/null\nHealthInterval=500ms`));
    await agent.waitForLog(/ag-slow\.service: starting/, mark);
    await agent.stop("SIGKILL");
    agent = new Agent(um).start();
    await agent.reconciled();
    await waitFor("ag-slow active", () => active("ag-slow.service"));
    expect(containerId("ag-a")).toBe(before.a);
    expect(containerId("ag-c")).toBe(before.c);
    // A second pass finds nothing to do.
    const again = agent.mark;
    process.kill(agent.pid!, "SIGHUP");
    expect(await agent.reconciled(again)).toMatch(/0 started, 0 restarted, 0 stopped/);
  });

  it("an upgrade of berth that writes the units differently restarts no service; an edit of [Service] alone still does", async () => {
    const before = { a: containerId("ag-a"), c: containerId("ag-c") };
    const specOf = (name: string) => docker(["inspect", "-f", '{{index .Config.Labels "io.berth.spec"}}', name]).stdout.trim();
    const spec = specOf("ag-c");
    await agent.stop();
    // What the berth before this one left: a record of another rendering of the same definition,
    // and (for ag-c) no definition digest, as records had before there were any.
    const recordOf = (base: string) => join(um.state, "accepted", `${base}.json`);
    for (const base of ["ag-a", "ag-c"]) {
      const record = JSON.parse(readFileSync(recordOf(base), "utf8")) as Record<string, unknown>;
      expect(record.source).toMatch(/^[0-9a-f]{16}$/);
      const older = { ...record, text: String(record.text).replace(/^ExecStopPost=.*$/m, "ExecStopPost=/usr/lib/berth/old-helper remove x") };
      if (base === "ag-c") delete older.source;
      writeFileSync(recordOf(base), JSON.stringify(older));
    }
    agent = new Agent(um).start();
    const first = await agent.reconciled();
    expect(first).toMatch(/0 started, 0 restarted, 0 stopped/);
    expect(agent.lines.some((l) => /^ag-c\.service: this berth writes its unit differently/.test(l.msg))).toBe(true);
    expect([containerId("ag-a"), containerId("ag-c")]).toEqual([before.a, before.c]);
    for (const base of ["ag-a", "ag-c"]) {
      const record = JSON.parse(readFileSync(recordOf(base), "utf8")) as { text: string; source?: string };
      expect(record.text).not.toContain("old-helper");
      expect(record.source).toMatch(/^[0-9a-f]{16}$/);
    }
    // The same container spec, but the unit's own settings changed: that is an edit, and restarts.
    const mark = agent.mark;
    um.writeDefinition("ag-c.container", def("[Service]\nTimeoutStartSec=77"));
    expect(await agent.reconciled(mark)).toMatch(/0 started, 1 restarted/);
    await waitFor("ag-c replaced", () => active("ag-c.service") && containerId("ag-c") !== before.c && containerId("ag-c"));
    expect(containerId("ag-a")).toBe(before.a);
    expect(specOf("ag-c")).toBe(spec);
  });

  it("applies a template's instances and leaves the template itself alone", async () => {
    const mark = agent.mark;
    um.writeDefinition("tw@.container", def());
    symlinkSync("tw@.container", join(um.defs, "tw@one.container"));
    const done = await agent.reconciled(mark);
    expect(done).not.toMatch(/failed/);
    await waitFor("tw@one active", () => active("tw@one.service"));
    expect(containerId("tw-one")).not.toBe("");
    // An instance started from the template alone: its container names the instance.
    expect(um.systemctl(["start", "tw@two.service"]).status).toBe(0);
    expect(docker(["inspect", "-f", '{{index .Config.Labels "io.berth.unit"}}', "tw-two"]).stdout.trim()).toBe("tw@two.service");
    rmSync(join(um.defs, "tw@one.container"));
    rmSync(join(um.defs, "tw@.container"));
    await waitFor("tw@one and tw@two stopped", () => !active("tw@one.service") && !active("tw@two.service"));
  });

  it("berth plan shows what berthd then does: a young deletion, a rename and a failed start, retried", async () => {
    const verbs: Record<string, string> = { starting: "start", restarting: "restart", stopping: "stop" };
    /** berthd's actions in the first reconcile begun after `from`, as plan's verbs. */
    const actions = async (from: number): Promise<string[]> => {
      await agent.reconciled(from);
      const began = agent.lines.findIndex((l, i) => i >= from && l.msg.startsWith("reconciling ("));
      const end = agent.lines.findIndex((l, i) => i > began && l.msg.startsWith("reconciled in"));
      return agent.lines.slice(began, end).flatMap((l) => {
        const act = /^(\S+\.service): (starting|restarting|stopping)(?: \(.*\))?$/.exec(l.msg);
        if (act) return [`${verbs[act[2]!]} ${act[1]}`];
        const gone = /^(.+): definition gone;/.exec(l.msg);
        return gone ? gone[1]!.split(", ").map((u) => `wait ${u}`) : [];
      }).sort();
    };
    const planned = () => berth("plan").stdout.split("\n").map((l) => /^(start|restart|stop|wait)\s+(\S+)/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`).sort();

    let mark = agent.mark;
    um.writeDefinition("ag-p1.container", def());
    um.writeDefinition("ag-p2.container", def());
    await agent.reconciled(mark);
    await agent.idle();
    await agent.stop();
    rmSync(join(um.defs, "ag-p1.container"));
    um.writeDefinition("ag-p2.container", def("ServiceName=ag-p2new"));
    um.writeDefinition("ag-pf.container", `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=false\nExec=/no/such/program\n[Service]\nRestart=no\n`);
    const first = planned();
    expect(first).toEqual(["start ag-p2new.service", "start ag-pf.service", "stop ag-p2.service", "wait ag-p1.service"]);
    agent = new Agent(um).start();
    expect(await actions(0)).toEqual(first);
    expect(agent.lines.some((l) => /^ag-pf\.service: StartUnit ended with "failed"; it is tried again$/.test(l.msg))).toBe(true);

    // The failed start is not taken for applied: plan and berthd's retry both restart it.
    await agent.idle();
    const retry = planned();
    expect(retry).toContain("restart ag-pf.service");
    const again = agent.mark;
    await agent.waitForLog(/^reconciling \(.*retry after failures/, again);
    expect(await actions(again)).toContain("restart ag-pf.service");
    await agent.waitForLog(/^ag-p1\.service: stopping$/);

    rmSync(join(um.defs, "ag-pf.container"));
    rmSync(join(um.defs, "ag-p2.container"));
    await waitFor("ag-pf and ag-p2new gone", () => um.show("ag-pf.service", "LoadState").LoadState === "not-found" && !active("ag-p2new.service"));
    await agent.idle();
  });

  it("berth plan shows a pending change and changes nothing; berth apply applies it", async () => {
    await agent.stop();
    um.writeDefinition("ag-new.container", def());
    const p = berth("plan");
    expect(p.stdout).toMatch(/start\s+ag-new\.service/);
    expect(um.show("ag-new.service", "LoadState").LoadState).toBe("not-found");
    const a = berth("apply");
    expect(a).toMatchObject({ status: 0, stdout: expect.stringMatching(/1 started/), stderr: "" });
    expect(active("ag-new.service")).toBe(true);
    agent = new Agent(um).start();
    await agent.reconciled();
  });
});

describe("berthd and images", () => {
  let um: UserManager;
  let agent: Agent;
  let registry: LocalRegistry;

  beforeAll(async () => {
    ensureTestImage();
    docker(["rm", "-f", "ag-img"]);
    registry = await new LocalRegistry().start();
    ({ um, agent } = await agentOnFreshManager());
  });

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    registry?.stop();
    docker(["rm", "-f", "ag-img"]);
  });

  it("pulls a changed image before restarting the service", async () => {
    // Two different images in the registry: v2 has an extra layer.
    const v1 = registry.push(TEST_IMAGE, "berth/app:v1");
    const build = spawnSync("sh", ["-c", `printf 'FROM ${TEST_IMAGE}\\nRUN echo two > /version\\n' | DOCKER_BUILDKIT=0 docker build -q -t berth-test/app-v2 -`], { encoding: "utf8" });
    expect(build.status).toBe(0);
    const v2 = registry.push("berth-test/app-v2", "berth/app:v2");
    docker(["rmi", "berth-test/app-v2"]);

    const mark = agent.mark;
    um.writeDefinition("ag-img.container", `[Container]\nImage=${v1}\nNetwork=none\nRunInit=yes\nExec=sleep 600\n`);
    await agent.reconciled(mark);
    await waitFor("ag-img on v1", () => um.show("ag-img.service", "ActiveState").ActiveState === "active");
    const old = containerId("ag-img");

    const edit = agent.mark;
    um.writeDefinition("ag-img.container", `[Container]\nImage=${v2}\nNetwork=none\nRunInit=yes\nExec=sleep 600\n`);
    await agent.reconciled(edit);
    const log = agent.lines.slice(edit).map((l) => l.msg);
    const pulled = log.findIndex((m) => m === `pulling 1 image before anything restarts: ${v2}`);
    const restarted = log.findIndex((m) => m === "ag-img.service: restarting (definition changed)");
    expect(pulled).toBeGreaterThanOrEqual(0);
    expect(restarted).toBeGreaterThan(pulled);
    expect(log.slice(pulled, restarted).some((m) => /Download complete|Pull complete|Downloaded newer image/.test(m))).toBe(true);
    expect(containerId("ag-img")).not.toBe(old);
    expect(docker(["exec", "ag-img", "cat", "/version"]).stdout.trim()).toBe("two");
  });

  it("keeps the old container running when the pull fails, and says so", async () => {
    const old = containerId("ag-img");
    const edit = agent.mark;
    um.writeDefinition("ag-img.container", `[Container]\nImage=${registry.host}/berth/app:missing\nNetwork=none\nRunInit=yes\nExec=sleep 600\n`);
    await agent.reconciled(edit);
    expect(agent.lines.slice(edit).some((l) => /ag-img\.service: cannot pull .*app:missing/.test(l.msg))).toBe(true);
    expect(containerId("ag-img")).toBe(old);
    expect(um.show("ag-img.service", "ActiveState").ActiveState).toBe("active");

    // Renamed as well: the old unit is not stopped for a successor that cannot start.
    const renamed = agent.mark;
    um.writeDefinition("ag-img.container", `[Container]\nImage=${registry.host}/berth/app:missing\nNetwork=none\nRunInit=yes\nExec=sleep 600\nServiceName=ag-img2\n`);
    await agent.reconciled(renamed);
    expect(agent.lines.slice(renamed).some((l) => /ag-img2\.service: cannot pull .*app:missing/.test(l.msg))).toBe(true);
    expect(agent.lines.slice(renamed).some((l) => /ag-img\.service: stopping/.test(l.msg))).toBe(false);
    expect(containerId("ag-img")).toBe(old);
    expect(um.show("ag-img.service", "ActiveState").ActiveState).toBe("active");
  });
});

describe("berthd as a systemd service", () => {
  let um: UserManager;

  beforeAll(async () => {
    ensureTestImage();
    ensureJournald();
    docker(["rm", "-f", "svc-one"]);
    um = await new UserManager().start();
    um.writeDefinition("svc-one.container", def());
  });

  afterAll(async () => {
    await um?.stop();
    docker(["rm", "-f", "svc-one"]);
  });

  it("reports ready (Type=notify) only after the first reconcile, logs with journald priorities, and stops on SIGTERM", async () => {
    const env = ["BERTH_UNIT_DIRS", "BERTH_STATE_DIR", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "PATH"].flatMap((k) => ["-E", `${k}=${um.env[k]}`]);
    const run = spawnSync("systemd-run", ["--user", "--unit=berthd-test", "-p", "Type=notify", "-p", "NotifyAccess=all", ...env, process.execPath, `${repo}bin/berthd`, "--user"], { env: um.env, encoding: "utf8" });
    expect(run.stderr).toBe("Running as unit: berthd-test.service\n");
    expect(run.status).toBe(0);
    // systemd-run returns once the service is ready: by then the definition has been applied.
    expect(um.show("svc-one.service", "ActiveState").ActiveState).toBe("active");
    expect(um.show("berthd-test.service", "StatusText").StatusText).toMatch(/^watching /);
    const journal = await waitFor("berthd's journal", () => {
      const j = um.journal("berthd-test.service") as Array<{ MESSAGE: string; PRIORITY?: string }>;
      return j.some((l) => /^reconciled in/.test(l.MESSAGE)) ? j : undefined;
    });
    const line = journal.find((l) => /^reconciled in/.test(l.MESSAGE))!;
    expect(line.PRIORITY).toBe("6");
    expect(journal.every((l) => !l.MESSAGE.startsWith("{"))).toBe(true);
    expect(um.systemctl(["stop", "berthd-test.service"]).status).toBe(0);
    // Had it ignored SIGTERM, systemd would have killed it at TimeoutStopSec: Result=timeout.
    expect(um.show("berthd-test.service", "Result").Result).toBe("success");
    // Stopping the agent leaves the services alone.
    expect(um.show("svc-one.service", "ActiveState").ActiveState).toBe("active");
  });
});

describe("berthd started before systemd's bus is up", () => {
  let um: UserManager;
  let agent: Agent;

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    docker(["rm", "-f", "late-one"]);
  });

  it("retries the failed reconcile on its own, backing off, until systemd answers", async () => {
    ensureTestImage();
    um = new UserManager();
    // An empty [Install] keeps systemd from starting it at boot: only berthd will.
    um.writeDefinition("late-one.container", def("[Install]\n"));
    agent = new Agent(um).start();
    await agent.waitForLog(/^reconcile failed: .*; retrying in 1 s$/);
    await agent.waitForLog(/^reconcile failed: .*; retrying in 2 s$/);
    const mark = agent.mark;
    await um.start();
    await agent.waitForLog(/^reconciling \(.*retry after a failed reconcile/, mark);
    expect(await agent.reconciled(mark)).toMatch(/1 started/);
    await waitFor("late-one active", () => um.show("late-one.service", "ActiveState").ActiveState === "active");
  });
});
