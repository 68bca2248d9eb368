import type Docker from "dockerode";
import { CONFIG_LABEL, SPEC_LABEL, UNIT_LABEL } from "../generator/labels.js";
import { call, dockerSocketPath, stream } from "../runtime/docker-socket.js";

export interface ContainerState {
  id: string;
  name: string;
  unit: string;
  spec: string | undefined;
  /** The configuration digest it was created with (CONFIG_LABEL), if it has configuration paths. */
  config: string | undefined;
  state: string;
  status: string;
  health: string | undefined;
  image: string;
}

export interface RunningContainer {
  unit: string;
  spec: string | undefined;
  config: string | undefined;
}

interface ListedContainer {
  Id: string;
  Created: number;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
}

const query = (filters: Record<string, string[]>) => encodeURIComponent(JSON.stringify(filters));

/**
 * The Docker Engine API as berthd uses it. Status, events and removal go through the small
 * socket client the units' helper uses; dockerode, which costs about 30 MB of resident memory
 * once loaded, is loaded only when an image has to be pulled.
 */
export class DockerClient {
  private dockerode: Promise<Docker> | undefined;
  /**
   * Running berth containers (id → unit and spec), kept current from the event stream so that a
   * reconcile need not list every container: at 300 that list costs dockerd about 30 ms. Only
   * trusted while the stream is open and since a listing made while it was open.
   */
  private readonly running = new Map<string, RunningContainer>();
  private streaming = false;
  /** Counts stream openings, so that a listing that spans a reconnect is not kept. */
  private opened = 0;
  private seeded = false;
  private eventsSeen = 0;

  constructor(private readonly socketPath = dockerSocketPath()) {}

  private async get<T>(path: string): Promise<T> {
    const r = await call("GET", path, this.socketPath);
    if (r.status !== 200) throw new Error(`Docker: GET ${path}: ${r.status} ${r.body.trim()}`);
    return JSON.parse(r.body) as T;
  }

  /** berth's containers by unit name, found by the label every generated unit puts on them. */
  async containers(): Promise<Map<string, ContainerState>> {
    const list = await this.get<ListedContainer[]>(`/containers/json?all=1&filters=${query({ label: [UNIT_LABEL] })}`);
    const out = new Map<string, ContainerState>();
    // Newest last, so that it wins: a renamed leftover with the same unit label is older.
    for (const c of list.sort((a, b) => a.Created - b.Created)) {
      const unit = c.Labels[UNIT_LABEL]!;
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace("health: ", "");
      out.set(unit, {
        id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""), unit, spec: c.Labels[SPEC_LABEL], config: c.Labels[CONFIG_LABEL], state: c.State, status: c.Status,
        health, image: c.Image,
      });
    }
    return out;
  }

  /** Each unit's running container: its spec and configuration labels. */
  async runningContainers(): Promise<Map<string, RunningContainer>> {
    if (!this.seeded) {
      const [seen, opened] = [this.eventsSeen, this.opened];
      const listed = [...(await this.containers()).values()].filter((c) => c.state === "running");
      // An event that arrived while the list was on its way may be newer than the list.
      if (this.streaming && seen === this.eventsSeen && opened === this.opened) {
        this.running.clear();
        for (const c of listed) this.running.set(c.id, { unit: c.unit, spec: c.spec, config: c.config });
        this.seeded = true;
      } else {
        return new Map(listed.map((c) => [c.unit, { unit: c.unit, spec: c.spec, config: c.config }]));
      }
    }
    return new Map([...this.running.values()].map((c) => [c.unit, c]));
  }

  /** The next runningContainers() lists again (a full resync). */
  forgetRunning(): void {
    this.seeded = false;
  }

  private track(action: string, id: string, attrs: Record<string, string>): void {
    this.eventsSeen++;
    if (action === "start") this.running.set(id, { unit: attrs[UNIT_LABEL] ?? "", spec: attrs[SPEC_LABEL], config: attrs[CONFIG_LABEL] });
    else if (action === "die" || action === "destroy") this.running.delete(id);
  }

  /** Removes the container of a unit, if one is left (a unit stopped after its file vanished). */
  async removeUnitContainer(unit: string): Promise<void> {
    const list = await this.get<ListedContainer[]>(`/containers/json?all=1&filters=${query({ label: [`${UNIT_LABEL}=${unit}`] })}`);
    for (const c of list) {
      const r = await call("DELETE", `/containers/${c.Id}?force=1&v=1`, this.socketPath);
      if (r.status !== 204 && r.status !== 404) throw new Error(`Docker: cannot remove ${c.Id}: ${r.body.trim()}`);
    }
  }

  async hasImage(ref: string): Promise<boolean> {
    const r = await call("GET", `/images/${encodeURIComponent(ref)}/json`, this.socketPath);
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw new Error(`Docker: cannot inspect image ${ref}: ${r.body.trim()}`);
  }

  /** Pulls an image through dockerode, reporting progress once per layer state change. */
  async pull(ref: string, progress: (line: string) => void, bytes?: (current: number, total: number) => void, deadlineMs = 30 * 60_000): Promise<void> {
    this.dockerode ??= import("dockerode").then(({ default: D }) => new D({ socketPath: this.socketPath }));
    const api = await this.dockerode;
    const s = await api.pull(ref);
    let timer: NodeJS.Timeout | undefined;
    // A stalled registry must not hold the reconcile for ever.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        (s as unknown as { destroy?: () => void }).destroy?.();
        reject(new Error(`no progress within ${deadlineMs / 60_000} minutes`));
      }, deadlineMs);
    });
    const done = new Promise<void>((resolve, reject) => {
      const last = new Map<string, string>();
      const layers = new Map<string, { current: number; total: number }>();
      api.modem.followProgress(
        s,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { id?: string; status?: string; error?: string; progressDetail?: { current?: number; total?: number } }) => {
          if (e.error) return reject(new Error(e.error));
          const key = e.id ?? "";
          if (bytes && e.status === "Downloading" && e.progressDetail?.total) {
            layers.set(key, { current: e.progressDetail.current ?? 0, total: e.progressDetail.total });
            let current = 0;
            let total = 0;
            for (const l of layers.values()) {
              current += l.current;
              total += l.total;
            }
            bytes(current, total);
          }
          if (e.status && last.get(key) !== e.status) {
            last.set(key, e.status);
            progress(e.id ? `${e.id}: ${e.status}` : e.status);
          }
        },
      );
    });
    try {
      await Promise.race([done, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Follows events of berth's containers until `stop` is called; reconnects when Docker goes away. */
  follow(onEvent: (e: { action: string; unit: string; name: string }) => void, onError: (e: Error) => void): () => void {
    let stopped = false;
    let close = (): void => {};
    // Filtered server-side: health probes would otherwise add exec events for every check.
    const filters = query({ type: ["container"], label: [UNIT_LABEL], event: ["start", "die", "health_status", "oom", "destroy"] });
    void (async () => {
      while (!stopped) {
        // dockerd answers before it subscribes: ask for the last seconds again, so that no event
        // between the answer and the subscription is lost (replays are harmless, they are in order).
        const since = Math.floor(Date.now() / 1000) - 2;
        const s = stream(`/events?since=${since}&filters=${filters}`, (m) => {
          const actor = (m.Actor as { ID?: string; Attributes?: Record<string, string> } | undefined) ?? {};
          const attrs = actor.Attributes ?? {};
          this.track(String(m.Action ?? ""), actor.ID ?? "", attrs);
          onEvent({ action: String(m.Action ?? ""), unit: attrs[UNIT_LABEL] ?? "", name: attrs.name ?? "" });
          return false;
        }, this.socketPath);
        close = s.close;
        void s.opened.then(() => {
          this.opened++;
          this.streaming = !stopped;
        });
        await s.closed.catch((e: Error) => onError(e));
        this.streaming = false;
        this.seeded = false;
        if (!stopped) await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    return () => {
      stopped = true;
      close();
    };
  }
}
