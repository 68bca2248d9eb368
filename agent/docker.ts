import Docker from "dockerode";
import { SPEC_LABEL, UNIT_LABEL } from "../generator/labels.js";
import { dockerSocketPath } from "../runtime/docker-socket.js";

export interface ContainerState {
  name: string;
  unit: string;
  spec: string | undefined;
  state: string;
  status: string;
  health: string | undefined;
  image: string;
  created: Date;
}

/** The Docker Engine API as berthd uses it: berth's containers, images, pulls and events. */
export class DockerClient {
  readonly api: Docker;

  constructor(socketPath = dockerSocketPath()) {
    this.api = new Docker({ socketPath });
  }

  /** berth's containers by unit name, found by the label every generated unit puts on them. */
  async containers(): Promise<Map<string, ContainerState>> {
    const list = await this.api.listContainers({ all: true, filters: { label: [UNIT_LABEL] } });
    const out = new Map<string, ContainerState>();
    for (const c of list) {
      const unit = c.Labels[UNIT_LABEL]!;
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace("health: ", "");
      out.set(unit, {
        name: (c.Names[0] ?? "").replace(/^\//, ""), unit, spec: c.Labels[SPEC_LABEL], state: c.State, status: c.Status,
        health, image: c.Image, created: new Date(c.Created * 1000),
      });
    }
    return out;
  }

  /** Removes the container of a unit, if one is left (a unit stopped after its file vanished). */
  async removeUnitContainer(unit: string): Promise<void> {
    const list = await this.api.listContainers({ all: true, filters: { label: [`${UNIT_LABEL}=${unit}`] } });
    for (const c of list) await this.api.getContainer(c.Id).remove({ force: true, v: true });
  }

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.api.getImage(ref).inspect();
      return true;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw e;
    }
  }

  /** Pulls an image, reporting progress once per layer state change rather than per byte. */
  async pull(ref: string, progress: (line: string) => void): Promise<void> {
    const stream = await this.api.pull(ref);
    await new Promise<void>((resolve, reject) => {
      const last = new Map<string, string>();
      this.api.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { id?: string; status?: string; error?: string }) => {
          if (e.error) return reject(new Error(e.error));
          const key = e.id ?? "";
          if (e.status && last.get(key) !== e.status) {
            last.set(key, e.status);
            progress(e.id ? `${e.id}: ${e.status}` : e.status);
          }
        },
      );
    });
  }

  /** Follows container events for berth's containers until `stop` is called; reconnects on loss. */
  follow(onEvent: (e: { action: string; unit: string; name: string }) => void, onError: (e: Error) => void): () => void {
    let stopped = false;
    let current: NodeJS.ReadableStream | undefined;
    const open = async (): Promise<void> => {
      while (!stopped) {
        try {
          // Filtered server-side: health probes would otherwise add exec events for every check.
          const s = (await this.api.getEvents({ filters: { type: ["container"], label: [UNIT_LABEL], event: ["start", "die", "health_status", "oom", "destroy"] } })) as NodeJS.ReadableStream;
          current = s;
          let buffer = "";
          await new Promise<void>((resolve) => {
            s.on("data", (chunk: Buffer) => {
              buffer += chunk.toString();
              for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
                const line = buffer.slice(0, nl);
                buffer = buffer.slice(nl + 1);
                if (!line.trim()) continue;
                const m = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
                const attrs = m.Actor?.Attributes ?? {};
                onEvent({ action: m.Action ?? "", unit: attrs[UNIT_LABEL] ?? "", name: attrs.name ?? "" });
              }
            });
            s.on("end", resolve);
            s.on("error", resolve);
          });
        } catch (e) {
          onError(e as Error);
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 2000));
      }
    };
    void open();
    return () => {
      stopped = true;
      (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }
}
