import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A bound for a hung test only. Each wait inside a test has its own bound (test/support/wait.ts)
    // and fails naming what it waited for; a test's total time depends on the machine.
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
    // End-to-end suites share one Docker engine and spawn systemd managers; keep them apart.
    fileParallelism: false,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
