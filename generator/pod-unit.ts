import { ContainerSection } from "./container-section.js";
import { translateContainer } from "./container-unit.js";
import { resourceNameOf, unitNameOf } from "./definition-names.js";
import { error } from "./diagnostics.js";
import { formatExec } from "./exec-line.js";
import { reportKeys, type KeyRule, type KeyTable } from "./key-rules.js";
import { holderOf, isPodName } from "./names.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
import type { Entry } from "./unit-file.js";

/**
 * The image of a pod's holder: catatonit in pause mode, as Podman's own infra container runs it,
 * made on the host from its static binary (berth-step pause-image) since there may be no registry.
 */
export const PAUSE_IMAGE = "localhost/berth-pause:1";

/** [Pod] keys that are the holder's, read as [Container] reads them: the network the members share is its. */
const HOLDER_KEYS = [
  "AddHost", "DNS", "DNSOption", "DNSSearch", "HostName", "IP", "IP6", "Label", "Network", "NetworkAlias", "PublishPort",
  "ShmSize", "StopTimeout", "Volume", "UserNS", "UIDMap", "GIDMap", "SubUIDMap", "SubGIDMap", "PodmanArgs", "GlobalArgs",
  "ContainersConfModule", "DockerArgs",
] as const;

const AS_CONTAINER: KeyRule = { kind: "own", readBy: "the pod's holder container, as [Container] reads it" };

/** Every [Pod] key berth knows. */
export const POD_KEYS: KeyTable = {
  PodName: { kind: "own", readBy: "pod-unit (the pod's name)" },
  ServiceName: { kind: "own", readBy: "definition-names (the unit's name)" },
  ...Object.fromEntries(HOLDER_KEYS.map((key) => [key, AS_CONTAINER])),
  ExitPolicy: { kind: "ignored", why: "a pod's unit stops when it is stopped, not when its last container ends" },
};
const IS_HOLDER_KEY = new Set<string>(HOLDER_KEYS);

/**
 * A `.pod` as Docker can run it: a holder container that owns the network (its ports, addresses
 * and names), the IPC namespace and the volumes, run by `NAME-pod.service`; each container with
 * `Pod=NAME.pod` joins them (--network, --ipc container:HOLDER, --volumes-from HOLDER), is bound
 * to that unit (BindsTo=, After=) and wanted by it. The holder is translated as the container it
 * is, so its keys mean and are checked exactly what they are in [Container].
 */
export function translatePod(def: Definition, ctx: TranslateContext): Translated {
  const own = def.sections.get("Pod") ?? [];
  const c = new ContainerSection(own, () => false);
  reportKeys(c, POD_KEYS, "unknown key in [Pod]");
  const unitName = unitNameOf(def);
  const pod = resourceNameOf(def)!;
  // Its members name the holder in their own units, where a specifier or variable would be theirs.
  const podName = c.single("PodName");
  if (podName && !isPodName(podName.value)) {
    c.fail(podName, `"${podName.value}" is not a pod name its containers can name: Docker's rule for names ([a-zA-Z0-9][a-zA-Z0-9_.-]*), with no specifiers or variables`);
  }
  if (def.sections.has("Container")) c.diagnostics.push(error(def.file, def.sections.get("Container")![0]?.line ?? 0, "a .pod file has no [Container] section: its containers are the .container files that say Pod="));
  const made = (key: string, value: string): Entry => ({ key, value, file: def.file, line: 0 });
  const holder: Definition = {
    ...def,
    name: { ...def.name, type: "container" },
    sections: new Map(def.sections).set("Container", [
      made("Image", PAUSE_IMAGE),
      made("Pull", "never"),
      made("ContainerName", holderOf(pod)),
      made("ServiceName", unitName),
      // Its members join its IPC namespace, which Docker lets them do only if it says so.
      made("DockerArgs", "--ipc shareable"),
      ...own.filter((e) => IS_HOLDER_KEY.has(e.key)),
    ]).set("Service", [made("ExecStartPre", formatExec([ctx.step, "pause-image", ctx.docker, PAUSE_IMAGE])), ...(def.sections.get("Service") ?? [])]),
  };
  holder.sections.delete("Pod");
  const t = translateContainer(holder, ctx);
  const diagnostics = c.diagnostics.concat(t.diagnostics);
  if (def.name.kind !== "plain") diagnostics.push(error(def.file, 0, "a .pod file cannot be a template or an instance; berth makes those of .container files only"));
  return { ...t, definition: def, type: "pod", resource: pod, diagnostics };
}
