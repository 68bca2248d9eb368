import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStoppedBy, writeStoppedBy } from "../agent/stopped-by.js";

describe("units a failed restart left stopped, kept between reconciles", () => {
  it("are read back as written, by berthd after a restart and by berth apply alike", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-stopped-by-"));
    expect(readStoppedBy(dir)).toEqual(new Map());
    writeStoppedBy(dir, new Map([["web.service", "db-network.service"]]));
    expect(readStoppedBy(dir)).toEqual(new Map([["web.service", "db-network.service"]]));
  });

  it("cost only what is damaged: no file, no JSON, or an entry that names no unit", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-stopped-by-"));
    writeFileSync(join(dir, "stopped-by.json"), "{not json");
    expect(readStoppedBy(dir)).toEqual(new Map());
    writeFileSync(join(dir, "stopped-by.json"), JSON.stringify({ "web.service": "db-network.service", "x.service": 3 }));
    expect(readStoppedBy(dir)).toEqual(new Map([["web.service", "db-network.service"]]));
  });
});
