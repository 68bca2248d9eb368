import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Writes files (string) and symlinks ({ link }) under a fresh temporary directory. */
export function tree(files: Record<string, string | { link: string }>, root = mkdtempSync(join(tmpdir(), "berth-"))): string {
  for (const [path, content] of Object.entries(files)) {
    const at = join(root, path);
    mkdirSync(dirname(at), { recursive: true });
    if (typeof content === "string") writeFileSync(at, content);
    else symlinkSync(content.link, at);
  }
  return root;
}

export const image = (extra = "", unit = "") => `${unit ? `[Unit]\n${unit}\n` : ""}[Container]\nImage=berth-test/busybox\n${extra}`;
