import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withReconcileLock } from "../agent/reconcile-lock.js";
import { actionsSince, ACTIONS_KEPT, withActions } from "../agent/status-file.js";
import { waitFor } from "./support/wait.js";

const lockIn = () => join(mkdtempSync(join(tmpdir(), "berth-lock-")), "run/berth/reconcile.lock");

/** Another process holding the lock, as berthd does during a reconcile, until it is told to stop. */
function holder(path: string): { release(): Promise<void> } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", `
    const { withReconcileLock } = await import(${JSON.stringify(new URL("../agent/reconcile-lock.ts", import.meta.url).pathname)});
    await withReconcileLock(process.argv[1], () => new Promise((r) => process.stdin.once("data", r)));
  `, path], { stdio: ["pipe", "inherit", "inherit"] });
  return {
    release: () => new Promise((r) => {
      child.once("exit", r);
      child.stdin.end("go\n");
    }),
  };
}

describe("one reconcile at a time (berthd and berth apply)", () => {
  it("a second taker waits until the holder is done, then runs", async () => {
    const path = lockIn();
    const h = holder(path);
    await waitFor("the other process to hold the lock", () => existsSync(path));
    const order: string[] = [];
    let told = false;
    const mine = withReconcileLock(path, async () => void order.push("mine"), () => (told = true));
    await waitFor("the taker to say it waits", () => told);
    order.push("holder done");
    await h.release();
    await mine;
    expect(order).toEqual(["holder done", "mine"]);
    expect(existsSync(path)).toBe(false);
  });

  it("a lock whose holder died (killed with -9) is taken over; one whose holder lives is not", async () => {
    const path = lockIn();
    await withReconcileLock(path, async () => {
      expect(readFileSync(path, "utf8")).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    });
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(path, `${dead} 1\n`);
    expect(await withReconcileLock(path, async () => "ran")).toBe("ran");
    // A living process's ID (this one's) with another start time: the ID was reused.
    writeFileSync(path, `${process.pid} 1\n`);
    expect(await withReconcileLock(path, async () => "ran")).toBe("ran");
  });

  it("an empty lock is a holder still writing its name, waited for; one left empty long ago is taken over", async () => {
    const path = lockIn();
    await withReconcileLock(path, async () => undefined);
    writeFileSync(path, "");
    let told = false;
    const mine = withReconcileLock(path, async () => "ran", () => (told = true));
    await waitFor("the taker to wait for the holder writing its name", () => told);
    writeFileSync(path, "");
    const long = new Date(Date.now() - 60_000);
    utimesSync(path, long, long);
    expect(await mine).toBe("ran");
  });

  it("releases the lock when the reconcile throws", async () => {
    const path = lockIn();
    await expect(withReconcileLock(path, async () => Promise.reject(new Error("bus gone")))).rejects.toThrow("bus gone");
    expect(existsSync(path)).toBe(false);
  });
});

describe("berthd's actions, for berth apply --since", () => {
  const a = (startedAt: number, started: string[] = [], restarted: string[] = [], stopped: string[] = []) => ({ startedAt, started, restarted, stopped });

  it("keeps reconciles that acted, the latest ones", () => {
    expect(withActions([], a(1))).toEqual([]);
    let h = withActions(undefined, a(1, ["x.service"]));
    for (let i = 2; i <= ACTIONS_KEPT + 5; i++) h = withActions(h, a(i, [], ["y.service"]));
    expect(h).toHaveLength(ACTIONS_KEPT);
    expect(h[0]!.startedAt).toBe(6);
  });

  it("sums up the reconciles that began at or after the mark, each unit once", () => {
    const h = [a(10, ["old.service"]), a(20, ["db.service"]), a(30, [], ["db.service", "api.service"], ["gone.service"]), a(40, [], ["db.service"])];
    expect(actionsSince(h, 20)).toEqual({ started: ["db.service"], restarted: ["db.service", "api.service"], stopped: ["gone.service"] });
    expect(actionsSince(h, 41)).toEqual({ started: [], restarted: [], stopped: [] });
    // A damaged status file is no history.
    expect(actionsSince({} as never, 0)).toEqual({ started: [], restarted: [], stopped: [] });
  });
});
