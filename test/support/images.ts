import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repo } from "./run.js";

export const TEST_IMAGE = "berth-test/busybox:latest";

/** Builds the local test image from busybox-static (idempotent: Docker's cache makes reruns instant). */
export function ensureTestImage(tag = TEST_IMAGE): void {
  const ctx = mkdtempSync(join(tmpdir(), "berth-img-"));
  try {
    copyFileSync("/bin/busybox", join(ctx, "busybox"));
    copyFileSync(join(repo, "test/images/fake-service"), join(ctx, "fake-service"));
    copyFileSync(join(repo, "test/images/Dockerfile"), join(ctx, "Dockerfile"));
    const r = spawnSync("docker", ["build", "-q", "-t", tag, ctx], { encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    if (r.status !== 0) throw new Error(`docker build failed: ${r.stderr}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

export function docker(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
