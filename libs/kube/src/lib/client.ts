import type { KubeObject, ResourceType } from '@capp/capp-model';

import { isNotFound } from './errors';
import { resourcePath, ResourceTypes } from './resources';
import type { KubeRest } from './rest';

export interface ApplyOptions {
  subresource?: 'status';
  /** Validation and admission run, nothing is stored. */
  dryRun?: boolean;
  /** Take over fields other managers own (default true: the caller is their authority). */
  force?: boolean;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface KubeClientOptions {
  /** The field manager of server-side applies and the writer named in managedFields. */
  fieldManager: string;
  /** Kinds beyond the built-in ones (CRDs) this client may apply. */
  types?: readonly ResourceType[];
}

/**
 * Typed object operations on top of {@link KubeRest}: server-side apply under one field manager
 * (strict field validation), create, get, list, patch, delete. Errors are the typed ones of
 * `errors.ts`; a missing object is `undefined` (get) or `false` (delete), not an error.
 */
export class KubeClient {
  readonly types: ResourceTypes;
  readonly fieldManager: string;

  constructor(
    readonly rest: KubeRest,
    options: KubeClientOptions,
  ) {
    this.fieldManager = options.fieldManager;
    this.types = new ResourceTypes(options.types);
  }

  /** Server-side apply; returns the live object (or what it would be, with `dryRun`). */
  apply<T extends KubeObject = KubeObject>(
    obj: KubeObject<unknown, unknown>,
    options: ApplyOptions = {},
  ): Promise<T> {
    const type = this.types.of(obj);
    return this.rest.request<T>(
      'PATCH',
      resourcePath(type, obj.metadata.namespace, obj.metadata.name, options.subresource),
      {
        query: {
          fieldManager: this.fieldManager,
          force: options.force ?? true,
          fieldValidation: 'Strict',
          dryRun: options.dryRun ? 'All' : undefined,
        },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  /** POST (objects with `generateName`, reviews); returns what the server stored or answered. */
  create<T extends KubeObject = KubeObject>(obj: KubeObject, options: { dryRun?: boolean } = {}): Promise<T> {
    const type = this.types.of(obj);
    return this.rest.request<T>('POST', resourcePath(type, obj.metadata.namespace), {
      query: { fieldManager: this.fieldManager, dryRun: options.dryRun ? 'All' : undefined },
      body: obj,
    });
  }

  /**
   * PUT: replaces the object (not its status, where the kind has a status subresource); with
   * `metadata.resourceVersion`, a ConflictError when it changed meanwhile.
   */
  update<T extends KubeObject = KubeObject>(obj: KubeObject<unknown, unknown>): Promise<T> {
    const type = this.types.of(obj);
    return this.rest.request<T>('PUT', resourcePath(type, obj.metadata.namespace, obj.metadata.name), {
      query: { fieldManager: this.fieldManager, fieldValidation: 'Strict' },
      body: obj,
    });
  }

  async get<T extends KubeObject = KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.rest.request<T>('GET', resourcePath(type, namespace, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One page (all of them when no `limit`); items carry their `apiVersion` and `kind`. */
  async list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: ListOptions = {},
  ): Promise<ObjectList<T>> {
    const list = await this.rest.request<ObjectList<T>>('GET', resourcePath(type, options.namespace), {
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
      },
    });
    const items = (list.items ?? []).map((i) => ({ ...i, apiVersion: type.apiVersion, kind: type.kind }));
    return { metadata: list.metadata ?? {}, items };
  }

  patch<T extends KubeObject = KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { type?: PatchType; subresource?: 'status' } = {},
  ): Promise<T> {
    return this.rest.request<T>('PATCH', resourcePath(type, namespace, name, options.subresource), {
      query: { fieldManager: this.fieldManager },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[options.type ?? 'merge'],
    });
  }

  /** Deletes (dependents in the background); false when it was already gone. */
  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.rest.request('DELETE', resourcePath(type, namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  close(): void {
    this.rest.close();
  }
}
