import { describe, expect, it } from "vitest";
import { compareConfig, isTransientName, manifestDigest, runningDigest, type ConfigState } from "../generator/config-manifest.js";

const m = (files: Record<string, string>) => files;

describe("configuration fingerprints (RestartOnChange=, ReloadOnChange=)", () => {
  const restart = m({ "/etc/kolla/nova/nova.conf": "640 0:0 aaa", "/etc/kolla/nova/config.json": "600 0:0 bbb" });
  const reload = m({ "/etc/kolla/nova/policy.yaml": "644 0:0 ccc" });
  const started: ConfigState = { label: manifestDigest(restart, reload), restart, reload };

  it("the same files with the same content, mode and owner give the same digest, in any order", () => {
    const reordered = m({ "/etc/kolla/nova/config.json": "600 0:0 bbb", "/etc/kolla/nova/nova.conf": "640 0:0 aaa" });
    expect(manifestDigest(reordered, reload)).toBe(started.label);
    expect(manifestDigest({ ...restart, "/etc/kolla/nova/nova.conf": "644 0:0 aaa" }, reload)).not.toBe(started.label);
  });

  it("names the files that changed since the container started, by the action they call for", () => {
    expect(compareConfig(started, { restart, reload }, started.label)).toEqual({ restart: [], reload: [] });
    const edited = { restart: { ...restart, "/etc/kolla/nova/nova.conf": "640 0:0 ddd" }, reload: { "/etc/kolla/nova/policy.yaml": "missing" } };
    expect(compareConfig(started, edited, started.label)).toEqual({ restart: ["/etc/kolla/nova/nova.conf"], reload: ["/etc/kolla/nova/policy.yaml"] });
  });

  it("without the start's record (or with one of another container) the label alone decides, and an unknown change restarts", () => {
    expect(compareConfig(undefined, { restart, reload }, started.label)).toEqual({ restart: [], reload: [] });
    const edited = { restart: { ...restart, "/etc/kolla/nova/nova.conf": "640 0:0 ddd" }, reload };
    expect(compareConfig({ ...started, label: "other" }, edited, started.label).restart).toEqual(Object.keys({ ...restart, ...reload }).sort());
  });

  it("reports the digest the container runs with, reloads included", () => {
    const reloaded: ConfigState = { ...started, reload: { "/etc/kolla/nova/policy.yaml": "644 0:0 eee" } };
    expect(runningDigest(started, started.label)).toBe(started.label);
    expect(runningDigest(reloaded, started.label)).toBe(manifestDigest(restart, reloaded.reload));
    expect(runningDigest(undefined, "abc")).toBe("abc");
  });

  it("does not count the files tools write on their way into place", () => {
    for (const name of [".ansible_tmpk3j2nova.conf", ".nova.conf.swp", "4913", ".#nova.conf", "nova.conf~", "nova.conf.dpkg-new"]) expect(isTransientName(name), name).toBe(true);
    for (const name of ["nova.conf", ".my.cnf", "config.json"]) expect(isTransientName(name), name).toBe(false);
  });
});
