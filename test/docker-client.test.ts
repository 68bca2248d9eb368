import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DockerClient } from "../agent/docker.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { waitFor } from "./support/wait.js";

const run = (name: string, spec: string) =>
  docker(["run", "-d", "--name", name, "--network", "none", "--label", `io.berth.unit=${name}.service`, "--label", `io.berth.spec=${spec}`, TEST_IMAGE, "sleep", "600"]);

/** What a fresh listing says, to compare the event-fed view with. */
async function listed(): Promise<Map<string, string | undefined>> {
  const all = await new DockerClient().containers();
  return new Map([...all.values()].filter((c) => c.state === "running" && c.name.startsWith("dcx-")).map((c) => [c.unit, c.spec]));
}

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
      await client.runningSpecs();
      return before > 0 && lists.mock.calls.length === before ? before : undefined;
    });
    expect(ours(await client.runningSpecs())).toEqual(new Map([["dcx-a.service", "aaaa"]]));

    const steps: Array<[string, () => void, Map<string, string | undefined>]> = [
      ["a second container starts", () => run("dcx-b", "bbbb"), new Map([["dcx-a.service", "aaaa"], ["dcx-b.service", "bbbb"]])],
      ["one stops", () => docker(["stop", "-t", "0", "dcx-a"]), new Map([["dcx-b.service", "bbbb"]])],
      ["it is replaced by another spec", () => (docker(["rm", "dcx-a"]), run("dcx-a", "cccc")), new Map([["dcx-a.service", "cccc"], ["dcx-b.service", "bbbb"]])],
      ["one is removed while running", () => docker(["rm", "-f", "dcx-b"]), new Map([["dcx-a.service", "cccc"]])],
    ];
    for (const [what, act, expected] of steps) {
      act();
      expect(await listed(), what).toEqual(expected);
      const seen = await waitFor(what, async () => {
        const v = ours(await client.runningSpecs());
        return JSON.stringify([...v].sort()) === JSON.stringify([...expected].sort()) ? v : undefined;
      });
      expect(seen).toEqual(expected);
    }
    expect(lists.mock.calls.length).toBe(afterSeeding);

    client.forgetRunning();
    expect(ours(await client.runningSpecs())).toEqual(new Map([["dcx-a.service", "cccc"]]));
    expect(lists.mock.calls.length).toBe(afterSeeding + 1);
  });
});
