import parsePrometheus from "parse-prometheus-text-format";

/** A metric family as parse-prometheus-text-format reads it from the text format. */
export interface ParsedFamily {
  name: string;
  help: string;
  /** Upper case: GAUGE, COUNTER, UNTYPED when the file has no TYPE line. */
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

/** A sample's labels with its value. */
export type Series = Record<string, string | number>;

/** The families of a text file, with a real parser: it throws on a line it cannot read. */
export const parseFamilies = (text: string): ParsedFamily[] => (parsePrometheus as (t: string) => ParsedFamily[])(text);

/** Each family's samples by metric name, as label sets with the value under `value`. */
export const seriesByName = (text: string): Map<string, Series[]> =>
  new Map(parseFamilies(text).map((f) => [f.name, f.metrics.map((m) => ({ ...m.labels, value: Number(m.value) }))]));
