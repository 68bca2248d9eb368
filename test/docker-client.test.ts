import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DockerClient } from "../agent/docker.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { waitFor } from "./support/wait.js";

const run = (name: string, spec: string) =>
  docker(["run", "-d", "--name", name, "--network", "none", "--label", `io.berth.unit=${name}.service`, "--label", `io.berth.spec=${spec}`, "--label", `io.berth.config=c${spec}`, TEST_IMAGE, "sleep", "600"]);

/** What a fresh listing says, to compare the event-fed view with. */
async function listed(): Promise<Map<string, string | undefined>> {
  const all = await new DockerClient().containers();
  return new Map([...all.values()].filter((c) => c.state === "running" && c.name.startsWith("dcx-")).map((c) => [c.unit, labels(c)]));
}

/** A container's spec and configuration labels, as one string to compare. */
const labels = (c: { spec: string | undefined; config: string | undefined }) => `${c.spec} ${c.config}`;
const running = async (client: DockerClient) => new Map([...(await client.runningContainers())].map(([unit, c]) => [unit, labels(c)]));

const ours = (m: Map<string, string | undefined>) => new Map([...m].filter(([unit]) => unit.startsWith("dcx-")));

describe("berthd's view of running containers, kept from Docker's events (real dockerd)", () => {
  const client = new DockerClient();
  let stop = (): void => {};

  beforeAll(() => {
    ensureTestImage();
    docker(["rm", "-f", "dcx-a", "dcx-b"]);
    stop = client.follow(() => undefined, () => undefined);
  });
  afterAll(() => {
    stop();
    docker(["rm", "-f", "dcx-a", "dcx-b"]);
  });

  it("lists once, then follows starts, stops, replacements and removals without listing again", async () => {
    run("dcx-a", "aaaa");
    const lists = vi.spyOn(client, "containers");
    // Once the event stream is open, a listing is kept and later calls are answered from events.
    const afterSeeding = await waitFor("a kept listing", async () => {
      const before = lists.mock.calls.length;
      await client.runningContainers();
      return before > 0 && lists.mock.calls.length === before ? before : undefined;
    });
    expect(ours(await running(client))).toEqual(new Map([["dcx-a.service", "aaaa caaaa"]]));

    const steps: Array<[string, () => void, Map<string, string | undefined>]> = [
      ["a second container starts", () => run("dcx-b", "bbbb"), new Map([["dcx-a.service", "aaaa caaaa"], ["dcx-b.service", "bbbb cbbbb"]])],
      ["one stops", () => docker(["stop", "-t", "0", "dcx-a"]), new Map([["dcx-b.service", "bbbb cbbbb"]])],
      ["it is replaced by another spec", () => (docker(["rm", "dcx-a"]), run("dcx-a", "cccc")), new Map([["dcx-a.service", "cccc ccccc"], ["dcx-b.service", "bbbb cbbbb"]])],
      ["one is removed while running", () => docker(["rm", "-f", "dcx-b"]), new Map([["dcx-a.service", "cccc ccccc"]])],
    ];
    for (const [what, act, expected] of steps) {
      act();
      expect(await listed(), what).toEqual(expected);
      const seen = await waitFor(what, async () => {
        const v = ours(await running(client));
        return JSON.stringify([...v].sort()) === JSON.stringify([...expected].sort()) ? v : undefined;
      });
      expect(seen).toEqual(expected);
    }
    expect(lists.mock.calls.length).toBe(afterSeeding);

    client.forgetRunning();
    expect(ours(await running(client))).toEqual(new Map([["dcx-a.service", "cccc ccccc"]]));
    expect(lists.mock.calls.length).toBe(afterSeeding + 1);
  });
});
