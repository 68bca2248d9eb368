import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, agentOnFreshManager, printAgentLogOnFailure } from "./support/agent.js";
import { ensureJournald } from "./support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import type { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

/**
 * Quadlet's other file types on a real systemd, berthd and the shared dockerd: a container on a
 * `.network`, with a `.volume`, from a `.build`; another from a `.image`. Every Docker object
 * made here is named `ft-…` (the defaults would be `systemd-…`).
 */
const CONTAINERS = ["ft-web", "ft-peer", "ft-needs"];
const NETWORK = "ft-net";
const VOLUME = "ft-data";
const BUILT = "ft-local/app:1";

const network = (extra = "") => `[Network]\nNetworkName=${NETWORK}\n${extra}`;
const volume = (extra = "") => `[Volume]\nVolumeName=${VOLUME}\n${extra}`;
const container = (image: string, body: string) => `[Container]\nImage=${image}\nRunInit=yes\n${body}\n`;

function cleanUp(): void {
  docker(["rm", "-f", ...CONTAINERS]);
  docker(["network", "rm", NETWORK]);
  docker(["volume", "rm", "-f", VOLUME]);
  docker(["rmi", "-f", BUILT]);
}

const inspect = <T>(what: string[], format: string): T | undefined => {
  const r = docker([...what, "--format", format]);
  return r.status === 0 ? (JSON.parse(r.stdout) as T) : undefined;
};
const networkOf = () => inspect<{ Id: string; Labels: Record<string, string> | null }>(["network", "inspect", NETWORK], "{{json .}}");
const containerOf = (name: string) => inspect<{ Id: string; NetworkSettings: { Networks: Record<string, { NetworkID: string }> } }>(["inspect", name], "{{json .}}");

describe("Quadlet's .network, .volume, .image and .build files (real systemd, berthd, dockerd)", () => {
  let um: UserManager;
  let agent: Agent;
  const state = (unit: string) => um.show(unit, "ActiveState").ActiveState;
  const journalText = (unit: string) => um.journal(unit).map((e) => e.MESSAGE).join("\n");
  printAgentLogOnFailure(() => agent);

  beforeAll(async () => {
    ensureTestImage();
    ensureJournald();
    cleanUp();
    ({ um, agent } = await agentOnFreshManager());
  });

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    cleanUp();
  });

  it("starts a container on its .network, with its .volume and its .build image, each made first", async () => {
    writeFileSync(join(um.defs, "Containerfile"), `FROM ${TEST_IMAGE}\nRUN echo built > /built\n`);
    um.writeDefinition("ft-app.build", `[Build]\nImageTag=${BUILT}\nSetWorkingDirectory=unit\nFile=Containerfile\n`);
    um.writeDefinition("ft-net.network", network("DNS=192.0.2.53\n"));
    um.writeDefinition("ft-data.volume", volume());
    um.writeDefinition("ft-base.image", `[Image]\nImage=${TEST_IMAGE}\nPolicy=missing\n`);
    um.writeDefinition("ft-web.container", container("ft-app.build", `Network=ft-net.network\nVolume=ft-data.volume:/data\nExec=sh -c "cp /built /data/seen; exec sleep 600"`));
    um.writeDefinition("ft-peer.container", container("ft-base.image", "Network=ft-net.network\nExec=sleep 600"));
    await waitFor("ft-web and ft-peer to be active", () => state("ft-web.service") === "active" && state("ft-peer.service") === "active");

    for (const unit of ["ft-net-network", "ft-data-volume", "ft-app-build", "ft-base-image"]) expect(state(`${unit}.service`), unit).toBe("active");
    expect(networkOf()?.Labels?.["io.berth.unit"]).toBe("ft-net-network.service");
    expect(Object.keys(containerOf("ft-web")!.NetworkSettings.Networks)).toEqual([NETWORK]);
    // The network's DNS= reaches its containers, Docker having no per-network DNS server.
    expect(inspect<string[]>(["inspect", "ft-peer"], "{{json .HostConfig.Dns}}")).toEqual(["192.0.2.53"]);
    // The .build's image ran, and wrote into the .volume.
    expect(docker(["run", "--rm", "-v", `${VOLUME}:/data`, "--network", "none", TEST_IMAGE, "cat", "/data/seen"]).stdout).toBe("built\n");
    // The two containers reach each other by name on the network.
    expect(docker(["exec", "ft-peer", "ping", "-c", "1", "-W", "5", "ft-web"]).status).toBe(0);
    expect(journalText("ft-base-image.service")).toContain(`image ${TEST_IMAGE} is present`);
  });

  it("keeps a network whose settings are the same, and makes it anew with its containers when they change", async () => {
    const before = networkOf()!.Id;
    expect(um.systemctl(["restart", "ft-net-network.service"]).status).toBe(0);
    expect(networkOf()!.Id).toBe(before);
    expect(journalText("ft-net-network.service")).toContain(`network ${NETWORK} exists with these settings`);
    await waitFor("ft-web back after the network's restart", () => state("ft-web.service") === "active");

    const web = containerOf("ft-web")!.Id;
    const mark = agent.mark;
    um.writeDefinition("ft-net.network", network("Label=tier=test"));
    await agent.reconciled(mark);
    await waitFor("a new network with the label", () => networkOf()?.Labels?.tier === "test");
    // Requires= takes the containers through the network's restart: they are on the new one.
    await waitFor("ft-web and ft-peer active again", () => state("ft-web.service") === "active" && state("ft-peer.service") === "active");
    const after = networkOf()!.Id;
    expect(after).not.toBe(before);
    const now = containerOf("ft-web")!;
    expect(now.Id).not.toBe(web);
    expect(now.NetworkSettings.Networks[NETWORK]!.NetworkID).toBe(after);
    expect(docker(["exec", "ft-peer", "ping", "-c", "1", "-W", "5", "ft-web"]).status).toBe(0);
  });

  it("uses a volume made from other settings as it is, with a warning: its data is never removed", async () => {
    const mark = agent.mark;
    um.writeDefinition("ft-data.volume", volume("Label=tier=test"));
    await agent.reconciled(mark);
    await waitFor("the volume's unit to warn", () => journalText("ft-data-volume.service").includes("is used as it is"));
    await waitFor("ft-web active again", () => state("ft-web.service") === "active");
    expect(state("ft-data-volume.service")).toBe("active");
    expect(inspect<Record<string, string> | null>(["volume", "inspect", VOLUME], "{{json .Labels}}")?.tier).toBeUndefined();
    expect(docker(["exec", "ft-web", "cat", "/data/seen"]).stdout).toBe("built\n");
  });

  it("an .image with Policy=never says which image is missing, and berthd leaves the pull to it", async () => {
    const mark = agent.mark;
    um.writeDefinition("ft-absent.image", "[Image]\nImage=ft-absent/none:1\nPolicy=never\n");
    um.writeDefinition("ft-needs.container", container("ft-absent.image", "Network=none\nExec=sleep 600"));
    await agent.reconciled(mark);
    await waitFor("the image unit to fail", () => state("ft-absent-image.service") === "failed");
    expect(journalText("ft-absent-image.service")).toContain("image ft-absent/none:1 is not present on this host, and Policy=never forbids pulling it");
    expect(state("ft-needs.service")).not.toBe("active");
    expect(agent.lines.slice(mark).some((l) => l.msg.includes("pulling ft-absent/none:1"))).toBe(false);
    rmSync(join(um.defs, "ft-needs.container"));
    rmSync(join(um.defs, "ft-absent.image"));
  });

  it("a deleted .network still in use keeps its unit; once nothing uses it, its unit stops and the network stays", async () => {
    const mark = agent.mark;
    rmSync(join(um.defs, "ft-net.network"));
    await agent.waitForLog(/ft-net\.network: warning: deleted, but .*ft-web\.service.* still use ft-net-network\.service/, mark);
    expect(state("ft-net-network.service")).toBe("active");
    expect(state("ft-web.service")).toBe("active");

    rmSync(join(um.defs, "ft-web.container"));
    rmSync(join(um.defs, "ft-peer.container"));
    await waitFor("the network's unit to stop", () => state("ft-net-network.service") !== "active");
    await waitFor("the containers to go", () => containerOf("ft-web") === undefined && containerOf("ft-peer") === undefined);
    // As in Quadlet: stopping the unit leaves the network (NetworkDeleteOnStop= would remove it).
    expect(networkOf()).toBeDefined();
  });
});
