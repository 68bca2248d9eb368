import { request } from "node:http";

/**
 * A minimal Docker Engine API client over the unix socket. The helper runs in every unit's start
 * and stop path, so it avoids loading a full client library.
 */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/run/docker.sock";
}

export class DockerUnreachable extends Error {}

export interface ApiResponse {
  status: number;
  body: string;
}

/** A wedged dockerd must not hang a unit's start or berthd's reconcile for ever. */
const CALL_TIMEOUT_MS = 60_000;

export function call(method: string, path: string, socketPath = dockerSocketPath()): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: "docker" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.setTimeout(CALL_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS / 1000} s`)));
    req.on("error", (e) => reject(new DockerUnreachable(`Docker is not reachable at ${socketPath}: ${e.message}`)));
    req.end();
  });
}

/** Streams newline-delimited JSON (the events endpoint) until the callback returns true. */
export function stream(
  path: string,
  onMessage: (message: Record<string, unknown>) => boolean,
  socketPath = dockerSocketPath(),
): { opened: Promise<void>; closed: Promise<void>; close(): void } {
  let close = (): void => {};
  let opened!: () => void;
  const openedP = new Promise<void>((r) => (opened = r));
  const closed = new Promise<void>((resolve, reject) => {
    const req = request({ socketPath, method: "GET", path, headers: { Host: "docker" } }, (res) => {
      opened();
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line && onMessage(JSON.parse(line) as Record<string, unknown>)) close();
        }
      });
      res.on("end", () => resolve());
      res.on("error", () => resolve());
    });
    close = () => {
      req.destroy();
      resolve();
    };
    req.on("error", (e) => {
      // Nobody must wait for an opening that will not come.
      opened();
      reject(new DockerUnreachable(`Docker is not reachable at ${socketPath}: ${e.message}`));
    });
    req.end();
  });
  return { opened: openedP, closed, close: () => close() };
}
