import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type KubeObject, platformCrds } from '@capp/capp-model';
import { KubeClient, KubeRest, type KubeTarget } from '@capp/kube';
import { parseAllDocuments } from 'yaml';

import { fallbackCrds } from './fallback-crds';
import { SHARED_CRDS_DIR } from './paths';

type Obj = Record<string, unknown>;

export interface CrdSet {
  crds: Obj[];
  /** Where the child CRDs came from: the upstream directory, or `fallback`. */
  childSource: string;
}

/** Every CustomResourceDefinition document in the top-level `*.yaml` files of `dir` (not sub-folders). */
export function readCrdDir(dir: string): Obj[] {
  const out: Obj[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${join(dir, file)}: ${doc.errors[0]?.message}`);
      const obj: unknown = doc.toJS();
      if (typeof obj === 'object' && obj !== null && (obj as Obj)['kind'] === 'CustomResourceDefinition') {
        out.push(obj as Obj);
      }
    }
  }
  return out;
}

/**
 * The CRDs a test cluster gets: the platform's own (Capp, CappRevision, CappTrait: always generated from
 * `@capp/capp-model`, so never stale) plus the child kinds — the upstream CRDs in `../shared/crds/`
 * (or `CAPP_TEST_CRDS_DIR`) when present, else the permissive fallbacks of fallback-crds.ts.
 */
export function testCrds(childDir = process.env['CAPP_TEST_CRDS_DIR'] || SHARED_CRDS_DIR): CrdSet {
  const own = platformCrds().map((c) => c.crd);
  const ownNames = new Set(own.map((c) => (c['metadata'] as Obj)['name']));
  const children = existsSync(childDir) ? readCrdDir(childDir) : [];
  const childCrds = (children.length > 0 ? children : fallbackCrds()).filter(
    (c) => !ownNames.has((c['metadata'] as Obj)['name']),
  );
  return { crds: [...own, ...childCrds], childSource: children.length > 0 ? childDir : 'fallback' };
}

/**
 * CRDs of `../shared/crds/reference/` by name (e.g. `syslogngflows.logging.banzaicloud.io`): kinds a
 * test cluster lacks by default, for the tests that need them (install with {@link installCrds}).
 */
export function referenceCrds(...names: string[]): Obj[] {
  const found = readCrdDir(join(SHARED_CRDS_DIR, 'reference')).filter((c) =>
    names.includes(String((c['metadata'] as Obj)['name'])),
  );
  const missing = names.filter((n) => !found.some((c) => (c['metadata'] as Obj)['name'] === n));
  if (missing.length > 0)
    throw new Error(`no reference CRD ${missing.join(', ')} in ${SHARED_CRDS_DIR}/reference`);
  return found;
}

/**
 * Applies the CRDs (server-side apply) and waits until every one is `Established=True`.
 *
 * Polling the CRDs themselves is costly (the upstream logging CRDs are megabytes of schema, and the
 * apiserver is busy compiling them), so this polls the small discovery documents instead: the
 * apiserver lists a CRD version there only once the CRD is Established, so discovery implies it.
 */
export async function installCrds(target: KubeTarget, crds: Obj[], timeoutMs = 60_000): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const rest = KubeRest.fromTarget(target);
  const client = new KubeClient(rest, { fieldManager: 'capp-testing' });
  await Promise.all(crds.map((crd) => client.apply(crd as KubeObject)));
  // group/version -> plurals that must show up in its discovery document
  const wanted = new Map<string, Set<string>>();
  for (const crd of crds) {
    const spec = crd['spec'] as {
      group: string;
      names: { plural: string };
      versions: { name: string; served: boolean }[];
    };
    for (const v of spec.versions.filter((x) => x.served)) {
      const gv = `${spec.group}/${v.name}`;
      wanted.set(gv, (wanted.get(gv) ?? new Set()).add(spec.names.plural));
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing: string[] = [];
    await Promise.all(
      [...wanted].map(async ([gv, plurals]) => {
        const res = await rest.raw<{ resources?: { name: string }[] }>('GET', `/apis/${gv}`);
        const served = new Set(res.status === 200 ? (res.body.resources ?? []).map((r) => r.name) : []);
        for (const p of plurals) if (!served.has(p)) missing.push(`${p}.${gv}`);
      }),
    );
    if (missing.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(`CRDs not Established after ${timeoutMs} ms: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Belt and braces: the condition itself, read once per CRD.
  const notEstablished = (
    await Promise.all(
      crds.map(async (crd) => {
        const name = String((crd['metadata'] as Obj)['name']);
        const got = await rest.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
          'GET',
          `${base}/${name}`,
        );
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? undefined
          : name;
      }),
    )
  ).filter((n) => n !== undefined);
  rest.close();
  if (notEstablished.length > 0)
    throw new Error(`CRDs served but not Established: ${notEstablished.join(', ')}`);
}
