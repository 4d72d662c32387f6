import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { brokerConfigSpec } from '@partq/broker';
import { gatewayConfigSpec } from '@partq/gateway';
import { managerConfigSpec } from '@partq/manager';
import { replicaConfigSpec } from '@partq/replica';
import { describeConfig, MALLOC_TUNING_ENV, type ConfigSpec } from '@partq/runtime';
import { parseAllDocuments } from 'yaml';

// The deploy files (deploy/): no container engine runs here, so this checks what can be checked
// without one: the YAML parses, each image runs a script the build produces and ships the packages
// that script needs, and every variable set for a role is one that role's config loader reads.

const ROOT = join(__dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const ROLES = ['manager', 'broker', 'replica', 'gateway'] as const;
type Role = (typeof ROLES)[number];
const SPECS: Record<Role, ConfigSpec> = { manager: managerConfigSpec, broker: brokerConfigSpec, replica: replicaConfigSpec, gateway: gatewayConfigSpec };
const BASE_IMAGE = 'node:20-slim';

type Json = Record<string, unknown>;

function knownVariables(role: Role): Set<string> {
  return new Set(describeConfig(SPECS[role]));
}

function filesUnder(dir: string, suffix: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, suffix);
    return suffix.test(entry.name) ? [path] : [];
  });
}

/** Every document of a YAML file (merge keys on, as Compose reads them); parse errors fail the test. */
function yamlDocuments(path: string): Json[] {
  const parsed = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  const documents = Array.isArray(parsed) ? parsed : [];
  for (const document of documents) {
    expect({ file: relative(ROOT, path), errors: document.errors.map((e) => e.message) }).toEqual({ file: relative(ROOT, path), errors: [] });
  }
  return documents.map((document) => document.toJS() as Json).filter((value) => value !== null && value !== undefined);
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(asObject) : [];
}

// ---- workspace packages ----

interface WorkspacePackage {
  name: string;
  dir: string;
  dependencies: string[];
}

/** The npm workspaces named by the root package.json (globs of the form "dir/*" or plain dirs). */
function workspacePackages(): WorkspacePackage[] {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const dirs = root.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(ROOT, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, pattern.slice(0, -2), entry.name, 'package.json')))
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern],
  );
  return dirs.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    return { name: pkg.name, dir, dependencies: Object.keys(pkg.dependencies ?? {}) };
  });
}

/** The workspace packages `dir` needs at run time, itself excluded, following dependencies of dependencies. */
function workspaceDependencies(dir: string, packages: WorkspacePackage[]): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const needed = new Set<string>();
  const visit = (pkg: WorkspacePackage): void => {
    for (const name of pkg.dependencies) {
      const dependency = byName.get(name);
      if (dependency && !needed.has(dependency.dir)) {
        needed.add(dependency.dir);
        visit(dependency);
      }
    }
  };
  visit(packages.find((p) => p.dir === dir)!);
  return [...needed].sort();
}

// ---- Dockerfiles ----

interface Instruction {
  keyword: string;
  args: string;
  /** Index of the build stage (FROM) the instruction belongs to. */
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped; ARG defaults before the first FROM expanded in FROM. */
function parseDockerfile(path: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.trimEnd().endsWith('\\')) {
      current += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const globalArgs = new Map<string, string>();
  let stage = -1;
  return logical.map((text) => {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stage === -1) {
      const [name, value] = args.split('=');
      if (name && value !== undefined) globalArgs.set(name, value);
    }
    let expanded = args;
    if (upper === 'FROM') {
      stage++;
      expanded = args.replace(/\$\{?([A-Za-z_]+)\}?/g, (match, name: string) => globalArgs.get(name) ?? match);
    }
    return { keyword: upper, args: expanded, stage };
  });
}

/** Variables set by ENV instructions ("ENV A=1 B=2" or "ENV A 1"), by name. */
function envVariables(instructions: Instruction[]): Map<string, string> {
  return new Map(
    instructions
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i): [string, string][] =>
        i.args.includes('=')
          ? [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)].map((m) => [m[1]!, m[2]!])
          : [[i.args.split(/\s+/)[0]!, i.args.split(/\s+/).slice(1).join(' ')]],
      ),
  );
}

/**
 * Workspace manifests npm install would not see: the stage that runs it must have copied either each
 * workspace's package.json, or a stage that took the whole context and kept only the manifests.
 */
function manifestsBeforeInstall(instructions: Instruction[], packages: WorkspacePackage[]): string[] {
  const install = instructions.find((i) => i.keyword === 'RUN' && /\bnpm (install|ci)\b/.test(i.args));
  if (!install) return ['(no npm install)'];
  const before = instructions.slice(0, instructions.indexOf(install)).filter((i) => i.stage === install.stage && i.keyword === 'COPY');
  const copied = new Set(before.map((i) => i.args.split(/\s+/).find((a) => !a.startsWith('--'))));
  const stageNames = instructions.filter((i) => i.keyword === 'FROM').map((i) => /\sAS\s+(\S+)/i.exec(i.args)?.[1]);
  const fromStages = before.flatMap((i) => {
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    return from === undefined ? [] : [stageNames.indexOf(from)];
  });
  const keepsAllManifests = fromStages.some((stage) => {
    const inStage = instructions.filter((i) => i.stage === stage);
    return inStage.some((i) => i.keyword === 'COPY' && /^\.\s+\.$/.test(i.args)) && inStage.some((i) => i.keyword === 'RUN' && i.args.includes('! -name package.json'));
  });
  if (keepsAllManifests) return [];
  return ['package.json', ...packages.map((p) => `${p.dir}/package.json`)].filter((manifest) => !copied.has(manifest));
}

describe('Dockerfiles', () => {
  const packages = workspacePackages();

  test.each(ROLES)('%s: a multi-stage node:20-slim build whose ENTRYPOINT is the built main.js', (role) => {
    const instructions = parseDockerfile(join(DEPLOY, 'docker', `${role}.Dockerfile`));
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args.split(/\s+/)[0]).toBe(BASE_IMAGE);

    const last = froms.length - 1;
    const runtime = instructions.filter((i) => i.stage === last);
    const entrypoints = runtime.filter((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const entrypoint = JSON.parse(entrypoints[0]!.args) as string[];
    expect(entrypoint).toEqual(['node', `apps/${role}/dist/main.js`]);
    // The script exists in the build output the image copies (npm run build / nx build).
    expect(existsSync(join(ROOT, entrypoint[1]!))).toBe(true);
    expect(runtime.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args)).toEqual(['/app']);

    // The image ships the app and every workspace package it requires, built, at their workspace paths.
    const copied = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')));
    const shipped = new Set(copied.map(([source]) => source!.replace(/^\/src\//, '').replace(/\/$/, '')));
    for (const dir of [`apps/${role}`, ...workspaceDependencies(`apps/${role}`, packages)]) {
      expect({ dir, dist: shipped.has(`${dir}/dist`), manifest: shipped.has(`${dir}/package.json`) }).toEqual({ dir, dist: true, manifest: true });
    }
    expect(shipped.has('node_modules')).toBe(true);

    // npm install sees every workspace's package.json, as the lockfile expects.
    expect(manifestsBeforeInstall(instructions, packages)).toEqual([]);

    // Defaults baked into the image are settings the role reads, and the malloc tuning the local
    // cluster launcher gives every role, with the same values.
    const known = knownVariables(role);
    const env = envVariables(runtime);
    expect([...env.keys()].filter((name) => !known.has(name) && !(name in MALLOC_TUNING_ENV))).toEqual([]);
    expect(Object.fromEntries(Object.keys(MALLOC_TUNING_ENV).map((name) => [name, env.get(name)]))).toEqual(MALLOC_TUNING_ENV);
  });
});

// ---- YAML ----

describe('YAML files', () => {
  test('every YAML file under deploy/ parses', () => {
    const files = filesUnder(DEPLOY, /\.ya?ml$/);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) expect(yamlDocuments(file).length).toBeGreaterThan(0);
  });
});

// ---- Compose ----

/** environment as a map or as a list of "NAME=value". */
function composeEnvironment(service: Json): Map<string, string> {
  const environment = service.environment;
  if (Array.isArray(environment)) {
    return new Map(environment.map((entry) => String(entry).split(/=(.*)/s).slice(0, 2) as [string, string]));
  }
  return new Map(Object.entries(asObject(environment)).map(([name, value]) => [name, String(value)]));
}

describe('deploy/compose.yaml', () => {
  const compose = yamlDocuments(join(DEPLOY, 'compose.yaml'))[0]!;
  const services = asObject(compose.services);

  /** A service's partq role, from the Dockerfile it builds. */
  function roleOf(service: Json): Role | undefined {
    const dockerfile = String(asObject(service.build).dockerfile ?? '');
    return ROLES.find((role) => dockerfile.endsWith(`docker/${role}.Dockerfile`));
  }
  const byRole = (role: Role): [string, Json][] => Object.entries(services).filter(([, s]) => roleOf(asObject(s)) === role) as [string, Json][];

  test('PostgreSQL 16, one manager, three brokers, two replicas, two gateways, all built from deploy/docker', () => {
    expect(asObject(services.postgres).image).toBe('postgres:16');
    expect(ROLES.map((role) => byRole(role).length)).toEqual([1, 3, 2, 2]);
    for (const role of ROLES) {
      for (const [, service] of byRole(role)) {
        const build = asObject(service.build);
        expect(existsSync(join(DEPLOY, String(build.context), String(build.dockerfile)))).toBe(true);
      }
    }
  });

  test.each(ROLES)('every variable set for a %s is one its config loader reads', (role) => {
    const known = knownVariables(role);
    for (const [name, service] of byRole(role)) {
      const unknown = [...composeEnvironment(service).keys()].filter((variable) => !known.has(variable));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  test('the manager and replicas have DATABASE_URL; brokers and the manager keep their data on named volumes', () => {
    for (const role of ['manager', 'replica'] as const) {
      for (const [, service] of byRole(role)) expect(composeEnvironment(service).get('DATABASE_URL')).toMatch(/^postgres(ql)?:\/\//);
    }
    const declared = Object.keys(asObject(compose.volumes));
    const volumesOf = (service: Json, dataDir: string): string[] =>
      (service.volumes as string[]).filter((v) => v.endsWith(`:${dataDir}`)).map((v) => v.split(':')[0]!);
    const brokerVolumes = byRole('broker').flatMap(([, s]) => volumesOf(s, composeEnvironment(s).get('PARTQ_BROKER_DATA_DIR')!));
    expect(brokerVolumes).toHaveLength(3);
    expect(new Set(brokerVolumes).size).toBe(3);
    const [, manager] = byRole('manager')[0]!;
    const managerVolumes = volumesOf(manager, composeEnvironment(manager).get('PARTQ_MANAGER_DATA_DIR')!);
    for (const volume of [...brokerVolumes, ...managerVolumes]) expect(declared).toContain(volume);
    // Each broker advertises its own address; gateways have distinct ids.
    expect(new Set(byRole('broker').map(([, s]) => composeEnvironment(s).get('PARTQ_BROKER_ADVERTISED_URL'))).size).toBe(3);
    expect(new Set(byRole('gateway').map(([, s]) => composeEnvironment(s).get('PARTQ_GATEWAY_ID'))).size).toBe(2);
  });
});

// ---- Kubernetes ----

describe('deploy/kubernetes', () => {
  const dir = join(DEPLOY, 'kubernetes');
  const objects = filesUnder(dir, /\.ya?ml$/)
    .filter((file) => !file.endsWith('kustomization.yaml'))
    .flatMap(yamlDocuments);
  const find = (kind: string, name: string): Json | undefined => objects.find((o) => o.kind === kind && asObject(o.metadata).name === name);
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  const podSpecOf = (workload: Json): Json => asObject(asObject(asObject(workload.spec).template).spec);
  const containersOf = (workload: Json): Json[] => asArray(podSpecOf(workload).containers);
  /** The partq role a container runs, from its image (partq/<role>[:tag]). */
  const roleOfImage = (image: unknown): Role | undefined => ROLES.find((role) => new RegExp(`(^|/)partq/${role}(:|@|$)`).test(String(image)));
  const workloadOf = (role: Role): Json | undefined => workloads.find((w) => containersOf(w).some((c) => roleOfImage(c.image) === role));

  /** Keys of a ConfigMap or Secret (data and stringData). */
  function keysOf(kind: 'ConfigMap' | 'Secret', name: string): string[] | undefined {
    const object = find(kind, name);
    return object && [...Object.keys(asObject(object.data)), ...Object.keys(asObject(object.stringData))];
  }

  test('manager Deployment + Service, brokers StatefulSet + headless Service, replicas and gateways Deployments, gateway Service', () => {
    expect(workloadOf('manager')?.kind).toBe('Deployment');
    expect(workloadOf('replica')?.kind).toBe('Deployment');
    expect(workloadOf('gateway')?.kind).toBe('Deployment');
    const brokers = workloadOf('broker')!;
    expect(brokers.kind).toBe('StatefulSet');

    const spec = asObject(brokers.spec);
    const claims = asArray(spec.volumeClaimTemplates).map((claim) => asObject(claim.metadata).name);
    expect(claims.length).toBeGreaterThan(0);
    const broker = containersOf(brokers)[0]!;
    const dataDir = asArray(broker.env).find((e) => e.name === 'PARTQ_BROKER_DATA_DIR')?.value;
    expect(asArray(broker.volumeMounts).filter((m) => claims.includes(m.name)).map((m) => m.mountPath)).toEqual([dataDir]);
    const headless = find('Service', String(spec.serviceName));
    expect(asObject(headless?.spec).clusterIP).toBe('None');

    // Services select the pods of a workload and target one of their named ports.
    for (const role of ['manager', 'broker', 'gateway'] as const) {
      const workload = workloadOf(role)!;
      const labels = asObject(asObject(asObject(workload.spec).template).metadata).labels as Record<string, string>;
      const services = objects.filter((o) => o.kind === 'Service' && Object.entries(asObject(asObject(o.spec).selector)).every(([k, v]) => labels[k] === v));
      expect(services.length).toBeGreaterThan(0);
      const portNames = containersOf(workload).flatMap((c) => asArray(c.ports).map((p) => p.name));
      for (const service of services) for (const port of asArray(asObject(service.spec).ports)) expect(portNames).toContain(port.targetPort);
    }
  });

  test('every variable set for a role is one its config loader reads, and every reference resolves', () => {
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        const role = roleOfImage(container.image);
        expect(role).toBeDefined();
        const known = knownVariables(role!);
        const env = asArray(container.env);
        const values = env.map((e) => String(e.value ?? '')).join(' ');
        // A helper variable (POD_NAME from the downward API) is fine when another value expands it.
        const unknown = env.map((e) => String(e.name)).filter((name) => !known.has(name) && !values.includes(`$(${name})`));
        for (const source of asArray(container.envFrom)) {
          const configMap = asObject(source.configMapRef).name;
          const secret = asObject(source.secretRef).name;
          const keys = configMap ? keysOf('ConfigMap', String(configMap)) : keysOf('Secret', String(secret));
          expect(keys).toBeDefined();
          unknown.push(...keys!.map((key) => `${String(source.prefix ?? '')}${key}`).filter((name) => !known.has(name)));
        }
        expect({ container: container.name, unknown }).toEqual({ container: container.name, unknown: [] });

        for (const entry of env) {
          const from = asObject(entry.valueFrom);
          for (const [kind, ref] of [
            ['ConfigMap', asObject(from.configMapKeyRef)],
            ['Secret', asObject(from.secretKeyRef)],
          ] as const) {
            if (ref.name === undefined) continue;
            expect({ ref: `${kind}/${String(ref.name)}`, key: String(ref.key), found: keysOf(kind, String(ref.name))?.includes(String(ref.key)) }).toEqual({
              ref: `${kind}/${String(ref.name)}`,
              key: String(ref.key),
              found: true,
            });
          }
        }
      }
    }
  });

  test('DATABASE_URL comes from a Secret or ConfigMap, for the manager and the replicas', () => {
    for (const role of ['manager', 'replica'] as const) {
      const container = containersOf(workloadOf(role)!).find((c) => roleOfImage(c.image) === role)!;
      const entry = asArray(container.env).find((e) => e.name === 'DATABASE_URL');
      const from = asObject(entry?.valueFrom);
      expect(from.secretKeyRef ?? from.configMapKeyRef).toEqual(expect.objectContaining({ key: 'DATABASE_URL' }));
    }
  });

  test('kustomization.yaml lists every manifest', () => {
    const kustomization = yamlDocuments(join(dir, 'kustomization.yaml'))[0]!;
    const listed = (kustomization.resources as string[]).map((file) => join(dir, file)).sort();
    const manifests = filesUnder(dir, /\.ya?ml$/)
      .filter((file) => !file.endsWith('kustomization.yaml'))
      .sort();
    expect(listed).toEqual(manifests);
    for (const file of listed) expect(dirname(file)).toBe(dir);
  });
});
