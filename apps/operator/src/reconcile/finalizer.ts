import { type Capp, CAPP_FINALIZER, type KubeObject } from '@capp/capp-model';

/**
 * Server-side apply of our finalizer alone: the field manager owns just that entry of the list, so
 * finalizers of others are untouched; applying an empty list releases it.
 */
export function finalizerPatch(capp: Capp, present: boolean): KubeObject {
  return {
    apiVersion: capp.apiVersion,
    kind: capp.kind,
    metadata: {
      name: capp.metadata.name,
      namespace: capp.metadata.namespace,
      finalizers: present ? [CAPP_FINALIZER] : [],
    },
  };
}
