import { describe, expect, it } from "vitest";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { graceDeletions, plan, rolloutLevels, startOrder, stillStopped, type Observed } from "../agent/plan.js";

const unit = (name: string, text = `text of ${name}`, after: string[] = [], spec = `spec-${name}`): GeneratedUnit => ({
  base: name, file: `/etc/berth/${name}.container`, unitName: `${name}.service`, containerName: name, image: "img",
  spec, text, install: [], after: after.map((a) => `${a}.service`),
});
const seen = (u: GeneratedUnit, o: Partial<Observed> = {}): [string, Observed] => [
  u.unitName, { applied: { text: u.text, file: u.file }, loadedText: u.text, activeState: "active", runningSpec: u.spec, ...o },
];

describe("plan (what a reconcile does)", () => {
  it("does nothing, and no reload, when everything is as applied", () => {
    const a = unit("a");
    expect(plan([a], new Map([seen(a)]), [])).toEqual({ reload: false, start: [], restart: [], reloadInPlace: [], why: new Map(), stop: [], waiting: [], deferred: [], unchanged: ["a.service"], confirmed: [], rerendered: [], held: [], takenAlong: new Map(), carried: new Map() });
  });

  it("starts a unit berthd has never applied", () => {
    const a = unit("a");
    expect(plan([a], new Map([[a.unitName, {}]]), [])).toMatchObject({ reload: true, start: ["a.service"] });
  });

  it("restarts a changed unit that runs or failed, and defers one the operator stopped", () => {
    const a = unit("a", "new a");
    const b = unit("b", "new b");
    const c = unit("c", "new c");
    const old = (u: GeneratedUnit, state: string): [string, Observed] => [u.unitName, { applied: { text: "old", file: u.file }, loadedText: "old", activeState: state }];
    const p = plan([a, b, c], new Map([old(a, "active"), old(b, "failed"), old(c, "inactive")]), []);
    expect([p.restart, p.deferred, p.reload]).toEqual([["a.service", "b.service"], ["c.service"], true]);
  });

  describe("a restart that systemd carries to the units that require the restarted one", () => {
    const pod = { ...unit("web-pod", "new pod"), type: "pod" as const };
    const member = (name: string, after = ["web-pod"]) => ({ ...unit(name, `new ${name}`, after), restartedWith: after.map((a) => `${a}.service`) });
    const changed = (u: GeneratedUnit, state = "active"): [string, Observed] => [u.unitName, { applied: { text: "old", file: u.file }, loadedText: "old", activeState: state }];

    it("follows a changed member of a changed pod with the pod's restart instead of restarting it again, through a chain", () => {
      const [web, cache] = [member("web"), member("cache", ["web"])];
      const p = plan([pod, web, cache], new Map([changed(pod), changed(web), changed(cache)]), []);
      expect([p.restart, Object.fromEntries(p.takenAlong)]).toEqual([["web-pod.service", "web.service", "cache.service"], { "web.service": "web-pod.service", "cache.service": "web-pod.service" }]);
    });

    it("restarts a member itself when systemd would not: it is not running, or its pod is a container's unit that restarts alone", () => {
      expect(plan([pod, member("web")], new Map([changed(pod), changed(member("web"), "failed")]), []).takenAlong).toEqual(new Map());
      const db = unit("db", "new db");
      expect(plan([db, member("web", ["db"])], new Map([changed(db), changed(member("web", ["db"]))]), []).takenAlong).toEqual(new Map());
    });

    it("knows every running unit a restart with dependents carries, changed or not, and starts those that a failed one left stopped", () => {
      const [web, cache, idle] = [member("web"), member("cache", ["web"]), member("idle")];
      const p = plan([pod, web, cache, idle], new Map([changed(pod), seen(web), changed(cache), seen(idle, { activeState: "inactive" })]), []);
      expect(p.carried).toEqual(new Map([["web-pod.service", ["web.service", "cache.service"]]]));
      // The pod's restart failed: both are stopped now, and the pod is failed.
      const after = new Map([changed(pod, "failed"), seen(web, { activeState: "inactive" }), changed(cache, "inactive"), seen(idle, { activeState: "inactive" })]);
      const stoppedBy = new Map([["web.service", "web-pod.service"], ["cache.service", "web-pod.service"]]);
      const q = plan([pod, web, cache, idle], after, [], stoppedBy);
      expect([q.restart, q.start, q.deferred, q.why.get("web.service")]).toEqual([["web-pod.service"], ["web.service", "cache.service"], [], "stopped with the restart of web-pod.service"]);
      // Without it, they would be left for the operator, as a unit the operator stopped is.
      expect(plan([pod, web, cache, idle], after, []).start).toEqual([]);
      expect(rolloutLevels([pod, web, cache], [...q.restart, ...q.start])).toEqual([["web-pod.service"], ["web.service"], ["cache.service"]]);
      // One that its own stop left failed (killed at the stop timeout) is started too.
      expect(plan([pod, web], new Map([changed(pod, "failed"), seen(web, { activeState: "failed" })]), [], stoppedBy).start).toEqual(["web.service"]);
    });

    it("forgets a unit a failed restart stopped once it runs again, or once its definition is gone for good, not while it may come back", () => {
      const [web, cache] = [member("web"), member("cache", ["web"])];
      const stoppedBy = new Map([["web.service", "web-pod.service"], ["cache.service", "web-pod.service"], ["old.service", "web-pod.service"], ["back.service", "web-pod.service"]]);
      const observed = new Map([seen(web, { activeState: "active" }), seen(cache, { activeState: "inactive" })]);
      expect(stillStopped(stoppedBy, [pod, web, cache], observed, new Set(["back.service"]))).toEqual(new Map([["cache.service", "web-pod.service"], ["back.service", "web-pod.service"]]));
      // Masked by its operator: theirs to keep stopped.
      const masked = new Map([seen(web, { activeState: "active" }), seen(cache, { activeState: "inactive", masked: true })]);
      expect(stillStopped(stoppedBy, [pod, web, cache], masked, new Set())).toEqual(new Map());
    });

    it("starts a unit a failed restart stopped although it is ordered after a reverted one: it is no part of that rollout", () => {
      const db = { ...unit("db"), revertOnFailure: true, rejected: { text: "x", at: "2026-12-01T00:00:00Z", why: "failed" } };
      const web = { ...member("web"), after: ["web-pod.service", "db.service"] };
      const p = plan([pod, db, web], new Map([seen(pod), seen(db), seen(web, { activeState: "inactive" })]), [], new Map([["web.service", "web-pod.service"]]));
      expect([p.start, p.held]).toEqual([["web.service"], []]);
    });

    it("restarts a unit itself where its level is its root's: it requires the pod without being ordered after it, or only through an unchanged member", () => {
      const loose = { ...unit("web", "new web"), restartedWith: ["web-pod.service"] };
      expect(plan([pod, loose], new Map([changed(pod), changed(loose)]), []).takenAlong).toEqual(new Map());
      const [web, cache] = [member("web"), member("cache", ["web"])];
      const p = plan([pod, web, cache], new Map([changed(pod), seen(web), changed(cache)]), []);
      expect([p.restart, p.takenAlong]).toEqual([["web-pod.service", "cache.service"], new Map()]);
    });
  });

  describe("a new berth that writes a unit differently (an upgrade of berth itself)", () => {
    const a = { ...unit("a", "text as this berth writes it"), source: "def-a" };
    const before = (o: Partial<Observed> = {}, applied: Partial<NonNullable<Observed["applied"]>> = {}): Map<string, Observed> =>
      new Map([seen(a, { applied: { text: "text as the berth before wrote it", file: a.file, spec: a.spec, source: "def-a", ...applied }, loadedText: "text as the berth before wrote it", ...o })]);

    it("restarts nothing whose definition and container are the same, and records the new text", () => {
      const p = plan([a], before(), []);
      expect([p.restart, p.unchanged, p.rerendered, p.reload]).toEqual([[], ["a.service"], ["a.service"], true]);
    });

    it("takes a record of a berth that kept no definition digest as the same version, once, when its container runs that spec", () => {
      expect(plan([a], before({}, { source: undefined }), []).rerendered).toEqual(["a.service"]);
    });

    it("still restarts a unit whose definition changed, even where only the unit's own lines did", () => {
      const p = plan([a], before({}, { source: "def-a-before-the-edit" }), []);
      expect([p.restart, p.rerendered, Object.fromEntries(p.why)]).toEqual([["a.service"], [], { "a.service": "definition changed" }]);
    });

    it("records the definition anew, restarting nothing, when an edit leaves the unit as it was ([Install], an ignored key)", () => {
      const same = { ...a, text: "text as the berth before wrote it" };
      const p = plan([same], before({}, { source: "def-a-before-the-edit" }), []);
      expect([p.restart, p.unchanged, p.confirmed, p.rerendered]).toEqual([[], ["a.service"], ["a.service"], []]);
      expect(plan([same], before(), []).confirmed).toEqual([]);
    });

    it("keeps a network's unit too, which would take its containers along if restarted", () => {
      const net = { ...unit("db-network", "network unit as this berth writes it"), type: "network" as const, containerName: "", source: "def-net" };
      const observed = new Map([seen(net, { applied: { text: "network unit as the berth before wrote it", file: net.file, spec: net.spec, source: "def-net" }, runningSpec: undefined })]);
      expect([plan([net], observed, []).restart, plan([net], observed, []).rerendered]).toEqual([[], ["db-network.service"]]);
    });

    it("confirms a pending pod's unit only once its holder container runs, as a container's", () => {
      const pod = { ...unit("web-pod"), type: "pod" as const, containerName: "systemd-web-infra" };
      const pending = { text: pod.text, file: pod.file, spec: pod.spec, pending: true as const };
      expect(plan([pod], new Map([seen(pod, { applied: pending, runningSpec: undefined })]), []).confirmed).toEqual([]);
      expect(plan([pod], new Map([seen(pod, { applied: pending })]), []).confirmed).toEqual(["web-pod.service"]);
    });

    it("restarts a pod's unit whose holder container was made from another spec, as a container's", () => {
      const pod = { ...unit("web-pod", "pod unit as this berth writes it"), type: "pod" as const, containerName: "systemd-web-infra", source: "def-pod" };
      const applied = { text: "pod unit as the berth before wrote it", file: pod.file, spec: pod.spec, source: "def-pod" };
      expect(plan([pod], new Map([seen(pod, { applied, runningSpec: pod.spec })]), []).rerendered).toEqual(["web-pod.service"]);
      expect(plan([pod], new Map([seen(pod, { applied, runningSpec: "older-spec" })]), []).restart).toEqual(["web-pod.service"]);
    });

    it("still restarts a unit whose container was made from another spec, and starts one that is not running", () => {
      expect(plan([a], before({ runningSpec: "older-spec" }), []).restart).toEqual(["a.service"]);
      expect(plan([a], before({}, { spec: "older-spec" }), []).restart).toEqual(["a.service"]);
      const stopped = plan([a], before({ activeState: "inactive", runningSpec: undefined }), []);
      expect([stopped.rerendered, stopped.deferred]).toEqual([[], ["a.service"]]);
    });
  });

  it("restarts a unit whose running container was made from another spec, even when someone else already reloaded", () => {
    const a = unit("a");
    const p = plan([a], new Map([seen(a, { runningSpec: "older-spec" })]), []);
    expect([p.restart, p.reload]).toEqual([["a.service"], false]);
  });

  it("restarts, or reloads, a running unit whose configuration files changed, in dependency order, and says which", () => {
    const db = unit("db");
    const ks = unit("keystone", undefined, ["db"]);
    const api = unit("api", undefined, ["keystone"]);
    const changed = (restart: string[], reload: string[] = []) => ({ config: { restart, reload } });
    const p = plan([api, ks, db], new Map([
      seen(api, changed(["/etc/kolla/api/api.conf"])),
      seen(ks, changed([], ["/etc/kolla/keystone/policy.yaml"])),
      seen(db, changed(["/etc/kolla/db/a.cnf", "/etc/kolla/db/b.cnf", "/etc/kolla/db/c.cnf", "/etc/kolla/db/d.cnf"])),
    ]), []);
    expect([p.restart, p.reloadInPlace, p.unchanged, p.reload]).toEqual([["db.service", "api.service"], ["keystone.service"], [], false]);
    expect(Object.fromEntries(p.why)).toEqual({
      "db.service": "configuration changed (4 files (a.cnf, b.cnf, c.cnf, …))",
      "api.service": "configuration changed (api.conf)",
      "keystone.service": "configuration changed (policy.yaml)",
    });
  });

  it("leaves a unit that is not running to read its changed configuration when it starts, and restarts a changed definition once", () => {
    const a = unit("a");
    const b = unit("b", "new b");
    const stopped = plan([a], new Map([seen(a, { activeState: "inactive", config: { restart: ["/etc/a.conf"], reload: [] } })]), []);
    expect([stopped.restart, stopped.unchanged]).toEqual([[], ["a.service"]]);
    const both = plan([b], new Map([seen(b, { applied: { text: "old b", file: b.file }, config: { restart: ["/etc/b.conf"], reload: [] } })]), []);
    expect([both.restart, both.why.get("b.service")]).toEqual([["b.service"], "definition changed"]);
  });

  it("confirms a pending network unit once it is active, and starts a network before the container that uses it", () => {
    const net: GeneratedUnit = { ...unit("db-network"), base: "db.network", type: "network", containerName: "", resource: "systemd-db" };
    const app = unit("app", "text of app", ["db-network"]);
    // No container carries a network unit's spec: being active is its proof.
    const p = plan([app, net], new Map([[net.unitName, { applied: { text: net.text, file: net.file, pending: true }, loadedText: net.text, activeState: "active" }], [app.unitName, {}]]), []);
    expect([p.confirmed, p.unchanged, p.start]).toEqual([["db-network.service"], ["db-network.service"], ["app.service"]]);
    const fresh = plan([app, net], new Map(), []);
    expect(fresh.start).toEqual(["db-network.service", "app.service"]);
  });

  it("stops units whose definition file was deleted, and reloads", () => {
    expect(plan([], new Map(), ["gone.service"])).toMatchObject({ reload: true, stop: ["gone.service"] });
  });

  it("tries again a version whose job did not end in done, and confirms one that went through", () => {
    const a = unit("a");
    const pending = (activeState: string, runningSpec?: string): [string, Observed] => [a.unitName, { applied: { text: a.text, file: a.file, pending: true }, loadedText: a.text, activeState, runningSpec }];
    // The start failed, or was never seen through: start again, or restart what runs.
    expect(plan([a], new Map([pending("inactive")]), []).start).toEqual(["a.service"]);
    expect(plan([a], new Map([pending("failed")]), []).restart).toEqual(["a.service"]);
    expect(plan([a], new Map([pending("active", "older-spec")]), []).restart).toEqual(["a.service"]);
    // berthd died waiting, but the unit runs exactly this version: nothing to do, and the record is confirmed.
    expect(plan([a], new Map([pending("active", a.spec)]), [])).toMatchObject({ unchanged: ["a.service"], confirmed: ["a.service"], restart: [] });
    // Still starting (berthd restarted by an upgrade meanwhile): a restart would cancel the start.
    expect(plan([a], new Map([pending("activating")]), [])).toMatchObject({ unchanged: ["a.service"], confirmed: [], restart: [], start: [] });
  });

  it("waits out a deletion's grace period, keeping its clock between looks", () => {
    const since = new Map<string, number>();
    expect(graceDeletions(["a.service"], since, 2000, 10_000)).toEqual({ settled: [], waiting: [{ unit: "a.service", leftMs: 2000 }] });
    expect(graceDeletions(["a.service", "b.service"], since, 2000, 11_500)).toEqual({ settled: [], waiting: [{ unit: "a.service", leftMs: 500 }, { unit: "b.service", leftMs: 2000 }] });
    expect(graceDeletions(["a.service", "b.service"], since, 2000, 12_000)).toEqual({ settled: ["a.service"], waiting: [{ unit: "b.service", leftMs: 1500 }] });
    // A file that came back starts the clock again if it goes away again.
    expect(graceDeletions(["b.service"], since, 2000, 12_100).settled).toEqual([]);
    expect([...since.keys()]).toEqual(["b.service"]);
  });

  it("never starts a template itself", () => {
    const t = { ...unit("w"), unitName: "w@.service" };
    expect(plan([t], new Map(), [])).toMatchObject({ start: [], reload: true });
  });

  it("orders starts so that dependencies come first", () => {
    const db = unit("db");
    const ks = unit("keystone", undefined, ["db"]);
    const api = unit("api", undefined, ["keystone", "db"]);
    const p = plan([api, ks, db], new Map(), []);
    expect(p.start).toEqual(["db.service", "keystone.service", "api.service"]);
    expect([...startOrder([api, ks, db]).keys()]).toEqual(["db.service", "keystone.service", "api.service"]);
  });

  it("rolls out in dependency levels: a level only needs the levels below it", () => {
    const db = unit("db");
    const mq = unit("mq");
    const ks = unit("keystone", undefined, ["db"]);
    const pl = unit("placement", undefined, ["keystone", "db"]);
    const api = unit("api", undefined, ["placement", "mq"]);
    const web = unit("web");
    const all = [api, pl, ks, mq, db, web];
    expect(rolloutLevels(all, all.map((u) => u.unitName))).toEqual([
      ["db.service", "mq.service", "web.service"], ["keystone.service"], ["placement.service"], ["api.service"],
    ]);
    // Only the batch counts: with keystone unchanged, placement waits for nothing of it.
    expect(rolloutLevels(all, ["api.service", "placement.service", "db.service"])).toEqual([["db.service"], ["placement.service"], ["api.service"]]);
  });

  it("holds what is ordered after a reverted unit until that definition changes, and lets the rest go on", () => {
    const db = unit("db");
    const ks = { ...unit("keystone", undefined, ["db"]), rejected: { text: "x", at: "2026-12-01T00:00:00Z", why: "RestartUnit ended with \"failed\"" } };
    const pl = unit("placement", "new placement", ["keystone"]);
    const api = unit("api", "new api", ["placement"]);
    const web = unit("web", "new web");
    const old = (u: typeof db): [string, Observed] => [u.unitName, { applied: { text: "old", file: u.file }, loadedText: u.text, activeState: "active" }];
    const p = plan([db, ks, pl, api, web], new Map([seen(db), seen(ks), old(pl), old(api), old(web)]), []);
    expect(p.restart).toEqual(["web.service"]);
    expect(p.held).toEqual([
      { unit: "placement.service", because: "keystone.service was reverted" },
      { unit: "api.service", because: "keystone.service was reverted" },
    ]);
  });
});
