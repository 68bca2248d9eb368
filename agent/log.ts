import pino from "pino";

/**
 * pino, shaped for journald: under systemd (JOURNAL_STREAM is set) every line starts with a
 * `<N>` syslog priority that journald turns into the entry's PRIORITY, journald stamps the time
 * itself, and the message comes first so `journalctl -u berthd` reads as prose.
 */
const PRIORITY: Record<string, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 };

export type Logger = pino.Logger;

/** `toStderr`: a command whose standard output is its result (`berth apply --json`) logs beside it. */
export function createLogger(options: { level?: string; toStderr?: boolean } = {}): Logger {
  if (process.env.JOURNAL_STREAM) {
    return pino(
      {
        level: options.level ?? "info",
        base: undefined,
        timestamp: false,
        formatters: { level: (label) => ({ level: label }) },
      },
      {
        write(line: string) {
          const rec = JSON.parse(line) as Record<string, unknown>;
          const { level, msg, err, ...rest } = rec;
          const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
          const stack = err && typeof err === "object" && "stack" in err ? ` ${String((err as { stack: string }).stack).replaceAll("\n", " | ")}` : "";
          process.stdout.write(`<${PRIORITY[String(level)] ?? 6}>${String(msg ?? "")}${extra ? ` (${extra})` : ""}${stack}\n`);
        },
      },
    );
  }
  return pino({ level: options.level ?? "info", base: undefined }, options.toStderr ? pino.destination(2) : undefined);
}
