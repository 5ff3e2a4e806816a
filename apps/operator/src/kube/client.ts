import { ObjectMeta } from '@capp/capp-model';

import { resourcePath, ResourceType, typeOf } from './resources';
import { isNotFound, KubeRest } from './rest';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** The operator's port to Kubernetes: only what reconciling needs. */
export interface KubeClient {
  /** Server-side apply (forced, under the operator's field manager); returns the live object. */
  apply<T extends KubeObject>(obj: KubeObject, subresource?: 'status'): Promise<T>;
  get<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined>;
  /** Deletes in the background; false when it was already gone. */
  delete(type: ResourceType, namespace: string | undefined, name: string): Promise<boolean>;
}

export const FIELD_MANAGER = 'capp-operator';

export class RestKubeClient implements KubeClient {
  constructor(
    private readonly rest: KubeRest,
    private readonly fieldManager = FIELD_MANAGER,
  ) {}

  apply<T extends KubeObject>(obj: KubeObject, subresource?: 'status'): Promise<T> {
    const type = typeOf(obj);
    return this.rest.request<T>(
      'PATCH',
      resourcePath(type, obj.metadata.namespace, obj.metadata.name, subresource),
      {
        query: { fieldManager: this.fieldManager, force: true, fieldValidation: 'Strict' },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  async get<T extends KubeObject>(
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
}
