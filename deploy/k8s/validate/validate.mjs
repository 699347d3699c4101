// Validates rendered Kubernetes manifests (the output of `kubectl kustomize`).
//
//   node validate.mjs [--metrics-source FILE] OVERLAY=RENDERED.yaml ...
//       Every object must pass the Kubernetes JSON schema of its apiVersion/kind (the schemas ship inside the
//       kubernetes-models npm package; nothing is downloaded), and each overlay must keep the deployment's rules
//       (probes, security context, shutdown timing, references between objects, what its overlay promises).
//   node validate.mjs --expect-invalid FILE.yaml
//       Self-test: every object in FILE must FAIL schema validation.
//
// Prints one line per object and rule group; exits 1 if anything is invalid.

import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

const failures = [];
const fail = (message) => {
  failures.push(message);
  console.log(`FAIL  ${message}`);
};

async function readObjects(file) {
  const text = await readFile(file, "utf8");
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${file}: YAML error: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

// kubernetes-models lays out one module per kind: kubernetes-models/<group>/<version>/<Kind>, core as v1/<Kind>.
async function schemaErrors(object) {
  const { apiVersion, kind } = object ?? {};
  if (typeof apiVersion !== "string" || typeof kind !== "string") return ["has no apiVersion and kind"];
  let model;
  try {
    model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    return [`no schema for ${apiVersion} ${kind} in kubernetes-models`];
  }
  if (typeof model !== "function") return [`no schema for ${apiVersion} ${kind} in kubernetes-models`];
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [error.message];
  }
}

const describe = (o) => `${o?.apiVersion}/${o?.kind} ${o?.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o?.metadata?.name}`;

// kustomize folds long base64 values of generated Secrets over several lines; the API server's decoder skips
// line breaks, the schema's "byte" format does not, so they are joined before validation.
function unfoldSecretData(object) {
  if (object?.kind !== "Secret" || typeof object.data !== "object" || object.data === null) return object;
  const data = Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/\s+/g, "") : v]));
  return { ...object, data };
}

async function validateSchemas(label, objects) {
  let valid = 0;
  for (const object of objects) {
    const errors = await schemaErrors(unfoldSecretData(object));
    if (errors.length === 0) {
      valid++;
      console.log(`ok    ${label}  schema  ${describe(object)}`);
    } else {
      fail(`${label}  schema  ${describe(object)}: ${errors.join("; ")}`);
    }
  }
  return valid;
}

// ---- the deployment's own rules ------------------------------------------------------------------------------

const byKind = (objects, kind) => objects.filter((o) => o.kind === kind);
const named = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
const matches = (selector, labels) =>
  Object.keys(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function quantityToNumber(value) {
  if (typeof value === "number") return value;
  const match = /^([0-9.]+)(m?)$/.exec(String(value ?? ""));
  if (!match) return NaN;
  return Number(match[1]) / (match[2] === "m" ? 1000 : 1);
}

function preStopSeconds(container) {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep?.seconds !== undefined) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  const index = command.indexOf("sleep");
  return index >= 0 ? Number(command[index + 1]) : 0;
}

// Hands out each rule as a named check, so that the output says what was checked.
function checker(label) {
  let passed = 0;
  return {
    check(condition, what) {
      if (condition) passed++;
      else fail(`${label}  rule    ${what}`);
    },
    get passed() {
      return passed;
    },
  };
}

function validateRules(label, objects, overlay, metricNames) {
  const rules = checker(label);
  const c = rules.check;

  const deployments = byKind(objects, "Deployment");
  c(deployments.length === 1, `exactly one Deployment (found ${deployments.length})`);
  const deployment = deployments[0];
  if (!deployment) return rules.passed;
  const pod = deployment.spec.template;
  const podSpec = pod.spec;
  const labels = pod.metadata?.labels ?? {};
  const containers = podSpec.containers ?? [];
  const app = containers.find((x) => x.name === "glance-server") ?? containers[0];

  c(matches(deployment.spec.selector?.matchLabels, labels), "Deployment selector matches its pod labels");
  c(podSpec.securityContext?.runAsNonRoot === true, "pod securityContext.runAsNonRoot is true");
  c(podSpec.securityContext?.seccompProfile?.type === "RuntimeDefault", "pod seccompProfile is RuntimeDefault");
  for (const container of containers) {
    const sc = container.securityContext ?? {};
    c(sc.runAsNonRoot === true || podSpec.securityContext?.runAsNonRoot === true, `${container.name}: runAsNonRoot`);
    c(sc.allowPrivilegeEscalation === false, `${container.name}: allowPrivilegeEscalation is false`);
    c(sc.readOnlyRootFilesystem === true, `${container.name}: readOnlyRootFilesystem is true`);
    c((sc.capabilities?.drop ?? []).includes("ALL"), `${container.name}: capabilities drop ALL`);
  }

  c(app.startupProbe?.httpGet?.path === "/readyz", "startupProbe GETs /readyz");
  c(app.readinessProbe?.httpGet?.path === "/readyz", "readinessProbe GETs /readyz");
  c(app.livenessProbe?.httpGet?.path === "/healthz", "livenessProbe GETs /healthz");
  const portNames = new Set((app.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"])
    c(portNames.has(app[probe]?.httpGet?.port), `${probe} port ${app[probe]?.httpGet?.port} is a container port`);

  const tmpMount = (app.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
  const tmpVolume = (podSpec.volumes ?? []).find((v) => v.name === tmpMount?.name);
  c(tmpVolume?.emptyDir !== undefined, "/tmp is a writable emptyDir (the root filesystem is read-only)");

  // Everything the pod refers to must be rendered with it (kustomize renames generated objects).
  const configMaps = (app.envFrom ?? []).filter((e) => e.configMapRef).map((e) => named(objects, "ConfigMap", e.configMapRef.name));
  for (const ref of app.envFrom ?? []) {
    if (ref.configMapRef) c(named(objects, "ConfigMap", ref.configMapRef.name), `envFrom ConfigMap ${ref.configMapRef.name} exists`);
    if (ref.secretRef) c(named(objects, "Secret", ref.secretRef.name), `envFrom Secret ${ref.secretRef.name} exists`);
  }
  for (const volume of podSpec.volumes ?? []) {
    if (volume.persistentVolumeClaim)
      c(named(objects, "PersistentVolumeClaim", volume.persistentVolumeClaim.claimName), `PVC ${volume.persistentVolumeClaim.claimName} exists`);
    if (volume.configMap) c(named(objects, "ConfigMap", volume.configMap.name), `volume ConfigMap ${volume.configMap.name} exists`);
    if (volume.secret) c(named(objects, "Secret", volume.secret.secretName), `volume Secret ${volume.secret.secretName} exists`);
  }
  const env = Object.assign({}, ...configMaps.filter(Boolean).map((m) => m.data ?? {}));
  const secretKeys = (app.envFrom ?? [])
    .filter((e) => e.secretRef)
    .flatMap((e) => Object.keys(named(objects, "Secret", e.secretRef.name)?.data ?? {}));
  c(secretKeys.includes("Glance__Auth__ApiKeys__0"), "the Secret carries Glance__Auth__ApiKeys__0");
  c(secretKeys.includes("Glance__Jobs__Redis") || env.Glance__Jobs__Redis, "Glance__Jobs__Redis is set (shared jobs across replicas)");

  // A request accepted just before SIGTERM gets its full timeout plus the drain grace (appsettings.json defaults).
  const timeout = Number(env.Glance__Requests__TimeoutSeconds ?? 300);
  const grace = Number(env.Glance__Shutdown__GraceSeconds ?? 30);
  const preStop = preStopSeconds(app);
  const termination = podSpec.terminationGracePeriodSeconds ?? 30;
  c(preStop > 0, "a preStop sleep lets endpoints drop the pod before shutdown");
  c(termination > timeout + grace + preStop,
    `terminationGracePeriodSeconds ${termination} > TimeoutSeconds ${timeout} + GraceSeconds ${grace} + preStop ${preStop}`);
  c(quantityToNumber(app.resources?.requests?.cpu) > 0, "the container requests CPU (HPA utilisation needs it)");
  c(app.resources?.limits?.memory !== undefined, "the container has a memory limit");

  const services = byKind(objects, "Service");
  c(services.length >= 1, "a Service exists");
  for (const service of services) {
    c(matches(service.spec?.selector, labels), `Service ${service.metadata.name} selects the pods`);
    for (const port of service.spec?.ports ?? [])
      c(portNames.has(port.targetPort), `Service ${service.metadata.name} targetPort ${port.targetPort} is a container port`);
  }
  const pdbs = byKind(objects, "PodDisruptionBudget");
  c(pdbs.length === 1, "one PodDisruptionBudget");
  for (const pdb of pdbs) c(matches(pdb.spec?.selector?.matchLabels, labels), `PodDisruptionBudget ${pdb.metadata.name} selects the pods`);

  const hpas = byKind(objects, "HorizontalPodAutoscaler");
  c(hpas.length === 1, "one HorizontalPodAutoscaler");
  const hpa = hpas[0];
  c(hpa?.spec?.scaleTargetRef?.kind === "Deployment" && hpa?.spec?.scaleTargetRef?.name === deployment.metadata.name,
    "the HPA scales the Deployment");
  c((hpa?.spec?.minReplicas ?? 1) <= hpa?.spec?.maxReplicas, "HPA minReplicas <= maxReplicas");
  const metrics = hpa?.spec?.metrics ?? [];
  const gpus = quantityToNumber(app.resources?.limits?.["nvidia.com/gpu"]);

  if (overlay === "cpu") {
    c(metrics.some((m) => m.type === "Resource" && m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization"),
      "cpu overlay: the HPA scales on CPU utilisation");
    c(!(gpus > 0), "cpu overlay: no GPU requested");
  } else if (overlay === "gpu") {
    c(gpus === 1, "gpu overlay: limits nvidia.com/gpu is 1");
    c(/cuda/.test(app.image ?? ""), `gpu overlay: the image (${app.image}) is a CUDA build`);
    const queueMetric = metrics.map((m) => m.pods?.metric?.name ?? m.external?.metric?.name).find(Boolean);
    c(metrics.some((m) => m.type === "Pods" || m.type === "External"), "gpu overlay: the HPA scales on a Pods or External metric");
    c(metricNames.size === 0 || metricNames.has(queueMetric),
      `gpu overlay: HPA metric ${queueMetric} is one the server exports (${[...metricNames].join(", ") || "source not given"})`);
    const pvcVolume = (podSpec.volumes ?? []).find((v) => v.persistentVolumeClaim);
    const modelsMount = (app.volumeMounts ?? []).find((m) => m.name === pvcVolume?.name);
    c(modelsMount !== undefined, "gpu overlay: model weights come from a mounted PVC");
    c(modelsMount?.readOnly === true, "gpu overlay: the weights are mounted read-only");
    c(typeof env.Glance__Model__Path === "string" && modelsMount && env.Glance__Model__Path.startsWith(modelsMount.mountPath),
      `gpu overlay: Glance__Model__Path (${env.Glance__Model__Path}) lies on the weights volume`);
    const adaptersMount = (app.volumeMounts ?? []).find((m) => typeof env.Glance__Adapters__Path === "string" && env.Glance__Adapters__Path.startsWith(m.mountPath));
    const adaptersVolume = (podSpec.volumes ?? []).find((v) => v.name === adaptersMount?.name);
    const adaptersClaim = adaptersVolume?.persistentVolumeClaim && named(objects, "PersistentVolumeClaim", adaptersVolume.persistentVolumeClaim.claimName);
    c(adaptersMount !== undefined && adaptersMount.readOnly !== true,
      `gpu overlay: Glance__Adapters__Path (${env.Glance__Adapters__Path}) lies on a writable mounted volume`);
    c(adaptersClaim && (adaptersClaim.spec?.accessModes ?? []).includes("ReadWriteMany"),
      "gpu overlay: the adapter sets volume is a ReadWriteMany PVC shared by every replica");
  } else {
    fail(`${label}  rule    unknown overlay '${overlay}' (expected cpu or gpu)`);
  }
  return rules.passed;
}

// The Prometheus names of the server's gauges, whose units ("{request}") add no suffix: "glance.queue.depth" is
// exported as glance_queue_depth.
async function exportedMetricNames(file) {
  if (!file) return new Set();
  const source = await readFile(file, "utf8");
  const names = [...source.matchAll(/CreateObservableGauge(?:<[^>]+>)?\(\s*"(glance\.[a-z.]+)"/g)];
  return new Set(names.map((m) => m[1].replaceAll(".", "_")));
}

async function main(args) {
  if (args[0] === "--expect-invalid") {
    const file = args[1];
    const objects = await readObjects(file);
    if (objects.length === 0) fail(`self-test ${file} holds no objects`);
    for (const object of objects) {
      const errors = await schemaErrors(object);
      if (errors.length === 0) fail(`self-test  ${describe(object)} passed validation but is broken on purpose`);
      else console.log(`ok    self-test  ${describe(object)} rejected: ${errors[0].slice(0, 160)}`);
    }
  } else {
    let metricsSource;
    if (args[0] === "--metrics-source") [, metricsSource, ...args] = args;
    const metricNames = await exportedMetricNames(metricsSource);
    if (args.length === 0) fail("no rendered overlays given (OVERLAY=FILE ...)");
    for (const arg of args) {
      const [overlay, file] = arg.split("=");
      const objects = await readObjects(file);
      const valid = await validateSchemas(overlay, objects);
      const rules = validateRules(overlay, objects, overlay, metricNames);
      const status = valid === objects.length && failures.length === 0 ? "ok  " : "FAIL";
      console.log(`${status}  ${overlay}  ${valid}/${objects.length} objects valid, ${rules} rules held`);
    }
  }
  if (failures.length > 0) {
    console.log(`\nINVALID: ${failures.length} problem(s)`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
