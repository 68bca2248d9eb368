import { mkdtempSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, printAgentLogOnFailure } from "./support/agent.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { parseFamilies, seriesByName, type Series } from "./support/prometheus.js";
import { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

const CONTAINERS = ["mx-ok", "mx-crash"];
const ok = (body = "") => `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\nExec=sleep 600\nHealthCmd=test ! -e /sick\nHealthInterval=500ms\nHealthRetries=1\n${body}`;
// Dies a second after each start: systemd restarts it twice, then gives up (start-limit-hit).
const crash = `[Unit]\nStartLimitIntervalSec=1h\nStartLimitBurst=3\n[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nExec=sh -c "sleep 1; exit 3"\n[Service]\nRestartSec=200ms\n`;

describe("berthd's metrics file, read back with a Prometheus parser", () => {
  const dir = mkdtempSync(join(tmpdir(), "mx-metrics-"));
  const file = join(dir, "berth.prom");
  let um: UserManager;
  let agent: Agent;
  printAgentLogOnFailure(() => agent);

  /** The file as node_exporter would read it now: series by metric name, each with its labels and value. */
  const read = async (): Promise<Map<string, Series[]> | undefined> => {
    const text = await readFile(file, "utf8").catch(() => undefined);
    return text === undefined ? undefined : seriesByName(text);
  };
  /** Waits until the file says what `check` looks for. */
  const fileSays = async <T>(what: string, check: (m: Map<string, Series[]>) => T | undefined | false): Promise<T> =>
    waitFor(`the metrics file to show ${what}`, async () => {
      const m = await read();
      return m && check(m);
    });
  const one = (m: Map<string, Series[]>, name: string, labels: Series = {}): Series | undefined =>
    m.get(name)?.find((s) => Object.entries(labels).every(([k, v]) => s[k] === v));

  // Reads the file over and over while berthd rewrites it: every read must be a whole file.
  const torn: string[] = [];
  let reads = 0;
  let reading = true;
  let reader: Promise<void> | undefined;

  beforeAll(async () => {
    ensureTestImage();
    docker(["rm", "-f", ...CONTAINERS]);
    um = await new UserManager({ BERTH_METRICS_FILE: file }).start();
    um.writeDefinition("mx-ok.container", ok());
    um.writeDefinition("mx-crash.container", crash);
    agent = new Agent(um).start();
    reader = (async () => {
      while (reading) {
        const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : String(e)));
        if (text !== undefined) {
          try {
            parseFamilies(text);
            // The last family: a file cut short lacks it.
            if (!text.endsWith("\n") || !text.includes("\nberth_textfile_write_timestamp_seconds ")) torn.push(text);
            else reads++;
          } catch {
            torn.push(text);
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  });

  afterAll(async () => {
    reading = false;
    await reader;
    await agent?.stop("SIGKILL");
    await um?.stop();
    docker(["rm", "-f", ...CONTAINERS]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows a healthy service: active, healthy, running its desired spec and image, with the host's figures", async () => {
    const m = await fileSays("mx-ok active and healthy", (m) => one(m, "berth_service_state", { unit: "mx-ok.service", state: "active" })?.value === 1 && one(m, "berth_service_health", { unit: "mx-ok.service", health: "healthy" })?.value === 1 && m);
    const label = docker(["inspect", "-f", '{{index .Config.Labels "io.berth.spec"}}', "mx-ok"]).stdout.trim();
    expect(one(m, "berth_service_health", { unit: "mx-ok.service", health: "healthy" })).toMatchObject({ container: "mx-ok" });
    expect(one(m, "berth_service_up_to_date", { unit: "mx-ok.service" })).toEqual({ unit: "mx-ok.service", container: "mx-ok", value: 1 });
    expect(one(m, "berth_service_spec_info", { unit: "mx-ok.service" })).toEqual({ unit: "mx-ok.service", container: "mx-ok", desired: label, running: label, value: 1 });
    expect(one(m, "berth_service_image_info", { unit: "mx-ok.service" })).toEqual({ unit: "mx-ok.service", container: "mx-ok", image: TEST_IMAGE, running_image: TEST_IMAGE, value: 1 });
    expect(one(m, "berth_service_restarts_total", { unit: "mx-ok.service" })?.value).toBe(0);
    expect(one(m, "berth_reconciles_total")?.value).toBeGreaterThanOrEqual(1);
    expect(one(m, "berth_reconcile_duration_seconds")?.value).toBeGreaterThan(0);
    // The first reconcile loaded the two new units with a daemon-reload.
    expect(one(m, "berth_daemon_reloads_total")?.value).toBeGreaterThanOrEqual(1);
    expect(one(m, "berth_daemon_reload_duration_seconds")?.value).toBeGreaterThan(0);
    expect(one(m, "berth_definitions_refused")?.value).toBe(0);
    expect(one(m, "berth_textfile_write_timestamp_seconds")?.value).toBeGreaterThan(Date.now() / 1000 - 3600);
    // node_exporter runs as its own user.
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("shows a crashing service's restarts as systemd counts them, and its failed state", async () => {
    const m = await fileSays("mx-crash failed", (m) => one(m, "berth_service_state", { unit: "mx-crash.service", state: "failed" })?.value === 1 && m);
    const nRestarts = Number(um.show("mx-crash.service", "NRestarts").NRestarts);
    expect(nRestarts).toBeGreaterThan(0);
    expect(one(m, "berth_service_restarts_total", { unit: "mx-crash.service" })?.value).toBe(nRestarts);
    expect(m.get("berth_service_state")!.filter((s) => s.unit === "mx-crash.service" && s.value === 1)).toHaveLength(1);
    // No container runs: nothing to compare, and no health.
    expect(one(m, "berth_service_up_to_date", { unit: "mx-crash.service" })).toBeUndefined();
    expect(one(m, "berth_service_spec_info", { unit: "mx-crash.service" })).toMatchObject({ running: "" });
  });

  it("shows a container that turns unhealthy, and the error with its time", async () => {
    const before = Date.now() / 1000;
    expect(docker(["exec", "mx-ok", "touch", "/sick"]).status).toBe(0);
    const m = await fileSays("mx-ok unhealthy", (m) => one(m, "berth_service_health", { unit: "mx-ok.service", health: "unhealthy" })?.value === 1 && m);
    expect(one(m, "berth_service_last_error_info", { unit: "mx-ok.service" })).toMatchObject({ kind: "unhealthy", value: 1 });
    expect(one(m, "berth_service_last_error_timestamp_seconds", { unit: "mx-ok.service" })?.value).toBeGreaterThanOrEqual(Math.floor(before));
    // Still the unit berth started: health is the container's, the unit stays active.
    expect(one(m, "berth_service_state", { unit: "mx-ok.service", state: "active" })?.value).toBe(1);
  });

  it("counts a refused definition and names its error, quotes and all, while the service keeps running", async () => {
    um.writeDefinition("mx-ok.container", ok('HealthRetries="many"'));
    const m = await fileSays("one refused definition", (m) => one(m, "berth_definitions_refused")?.value === 1 && m);
    const info = one(m, "berth_service_last_error_info", { unit: "mx-ok.service" });
    expect(info).toMatchObject({ kind: "definition" });
    expect(info?.message).toBe('line 9: HealthRetries=: expected a number, found ""many""');
    expect(one(m, "berth_service_state", { unit: "mx-ok.service", state: "active" })?.value).toBe(1);
  });

  it("was never read half-written", async () => {
    reading = false;
    await reader;
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
  });
});
