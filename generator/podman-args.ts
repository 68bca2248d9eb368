import type { ContainerSection } from "./container-section.js";
import type { Entry } from "./unit-file.js";
import { GO_FALSE } from "./mount-option.js";
import { splitWords } from "./words.js";

/**
 * `PodmanArgs=` whose options `docker create` (Docker 20.10) takes as written and means the same
 * by: passed through word for word. Long names, with the one-letter spelling both share where
 * there is one; `value` says whether the option takes a value (`--cpus 2` or `--cpus=2`).
 */
const SAME_IN_DOCKER: Readonly<Record<string, { value: boolean; short?: string }>> = {
  "--add-host": { value: true }, "--blkio-weight": { value: true }, "--blkio-weight-device": { value: true },
  "--cap-add": { value: true }, "--cap-drop": { value: true }, "--cgroup-parent": { value: true },
  "--cgroupns": { value: true }, "--cpu-period": { value: true }, "--cpu-quota": { value: true },
  "--cpu-rt-period": { value: true }, "--cpu-rt-runtime": { value: true }, "--cpu-shares": { value: true, short: "-c" },
  "--cpus": { value: true }, "--cpuset-cpus": { value: true }, "--cpuset-mems": { value: true },
  "--device": { value: true }, "--device-cgroup-rule": { value: true }, "--device-read-bps": { value: true },
  "--device-read-iops": { value: true }, "--device-write-bps": { value: true }, "--device-write-iops": { value: true },
  "--dns": { value: true }, "--dns-option": { value: true }, "--dns-search": { value: true },
  "--domainname": { value: true }, "--env": { value: true, short: "-e" }, "--env-file": { value: true },
  "--expose": { value: true }, "--gpus": { value: true }, "--group-add": { value: true },
  "--hostname": { value: true, short: "-h" }, "--init": { value: false }, "--ip": { value: true },
  "--ip6": { value: true }, "--ipc": { value: true }, "--label": { value: true, short: "-l" },
  "--label-file": { value: true }, "--log-opt": { value: true }, "--mac-address": { value: true },
  "--memory": { value: true, short: "-m" }, "--memory-reservation": { value: true }, "--memory-swap": { value: true },
  "--memory-swappiness": { value: true }, "--mount": { value: true }, "--network-alias": { value: true },
  "--no-healthcheck": { value: false }, "--oom-kill-disable": { value: false }, "--oom-score-adj": { value: true },
  "--pid": { value: true }, "--pids-limit": { value: true }, "--privileged": { value: false },
  "--publish": { value: true, short: "-p" }, "--publish-all": { value: false, short: "-P" }, "--read-only": { value: false },
  "--runtime": { value: true },
  "--security-opt": { value: true }, "--shm-size": { value: true }, "--stop-signal": { value: true },
  "--storage-opt": { value: true }, "--sysctl": { value: true }, "--tmpfs": { value: true },
  "--tty": { value: false, short: "-t" }, "--ulimit": { value: true }, "--user": { value: true, short: "-u" },
  "--uts": { value: true }, "--volume": { value: true, short: "-v" }, "--workdir": { value: true, short: "-w" },
};

/** Options both have, whose job berth does itself or a key does: what to write instead. */
const OWNED: Readonly<Record<string, string>> = {
  "--name": "the container is named by ContainerName=",
  "--network": "use Network=", "--net": "use Network=",
  "--pull": "use Pull=",
  "--log-driver": "use LogDriver=",
  "--entrypoint": "use Entrypoint=",
  "--stop-timeout": "use StopTimeout=, which the unit's stop timeout follows",
  "--restart": "systemd restarts the unit (Restart= in [Service]); Docker's restart policy stays off",
  "--rm": "berth removes the container after every stop",
  "--detach": "the unit runs the container attached", "-d": "the unit runs the container attached",
  "--interactive": "a unit gives the container no standard input", "-i": "a unit gives the container no standard input",
  "--attach": "berth attaches to the container itself", "-a": "berth attaches to the container itself",
  "--cidfile": "berth finds the container by name and label",
  "--health-cmd": "use HealthCmd=, which readiness waits for",
  "--health-interval": "use HealthInterval=", "--health-retries": "use HealthRetries=",
  "--health-start-period": "use HealthStartPeriod=", "--health-timeout": "use HealthTimeout=",
  "--userns": "use UserNS=",
};

const SHORT: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SAME_IN_DOCKER).flatMap(([long, o]) => (o.short ? [[o.short, long]] : [])),
);

/** Options of a container's own network, which Docker refuses for one that joins another's. */
const OWN_NETWORK = new Set(["--add-host", "--dns", "--dns-option", "--dns-search", "--expose", "--hostname", "--ip", "--ip6", "--mac-address", "--network-alias", "--publish", "--publish-all"]);

/** An option word as written (`--cpus` of `--cpus=2`, `-m` of `-m512m`), and its long name. */
function optionOf(word: string): { written: string; name: string } {
  const eq = word.indexOf("=");
  const written = word.startsWith("--") && eq > 0 ? word.slice(0, eq) : word.startsWith("-") && !word.startsWith("--") ? word.slice(0, 2) : word;
  return { written, name: SHORT[written] ?? written };
}

/** One option of `PodmanArgs=` as read: its words (with a value given as the next word), or why not. */
type ReadOption = { entry: Entry; words: string[]; written: string; name: string } | { entry: Entry; problem: string };

/**
 * The options of `PodmanArgs=` words, each checked against the tables. After a problem the rest
 * of that line is not read: its words may be the refused option's values.
 */
function readOptions(words: ReadonlyArray<{ word: string; entry: Entry }>): ReadOption[] {
  const out: ReadOption[] = [];
  let refused: Entry | undefined;
  for (let i = 0; i < words.length; i++) {
    const { word, entry } = words[i]!;
    if (entry === refused) continue;
    const { written, name } = optionOf(word);
    const option = Object.hasOwn(SAME_IN_DOCKER, name) ? SAME_IN_DOCKER[name]! : undefined;
    let problem: string | undefined;
    if (Object.hasOwn(OWNED, written) || Object.hasOwn(OWNED, name)) problem = `${written} is not taken here: ${OWNED[written] ?? OWNED[name]}`;
    else if (!option && word.startsWith("-")) problem = `${written} is not an option Docker's docker create takes as Podman does; write a key (see berth.container(5)), or DockerArgs= for Docker's own options`;
    else if (!option) problem = `"${word}" is no option; PodmanArgs= takes options only`;
    // `-tP`: one letter each, which berth would not check past the first (`-P=false` is one).
    else if (!option.value && word !== written && !word.startsWith("--") && word[2] !== "=") problem = `"${word}" is several options in one word; write each on its own`;
    // The value is attached (`--cpus=2`, `-m512m`) or the next word.
    else if (!option.value || word !== written) out.push({ entry, words: [word], written, name });
    else if (i + 1 < words.length) out.push({ entry, words: [word, words[++i]!.word], written, name });
    else problem = `${written} needs a value`;
    if (problem !== undefined) {
      out.push({ entry, problem });
      refused = entry;
    }
  }
  return out;
}

/** A boolean option switched off (`--publish-all=false`, `-P=0`, Go's falses) asks for nothing. */
const switchedOff = (word: string): boolean => word.includes("=") && GO_FALSE.has(word.slice(word.indexOf("=") + 1));

/**
 * The `PodmanArgs=` options of a network of the container's own, once per line each, for a
 * container that joins another's network. Words of a line that does not split are its own error.
 */
export function ownNetworkOptions(c: ContainerSection): Array<{ entry: Entry; option: string }> {
  const words: Array<{ word: string; entry: Entry }> = [];
  for (const entry of c.entries("PodmanArgs")) {
    const split = splitWords(entry.value);
    if (split.ok) for (const word of split.words) words.push({ word, entry });
  }
  const out: Array<{ entry: Entry; option: string }> = [];
  for (const o of readOptions(words)) {
    if ("problem" in o || !OWN_NETWORK.has(o.name) || (!SAME_IN_DOCKER[o.name]!.value && switchedOff(o.words[0]!))) continue;
    if (!out.some((seen) => seen.entry === o.entry && seen.option === o.written)) out.push({ entry: o.entry, option: o.written });
  }
  return out;
}

/** `PodmanArgs=` words into `argv`, each option checked against the tables; a refusal names the option. */
export function podmanArgs(c: ContainerSection, argv: string[]): void {
  for (const o of readOptions(c.words("PodmanArgs"))) {
    if ("problem" in o) c.fail(o.entry, o.problem);
    else for (const word of o.words) argv.push(word);
  }
}
