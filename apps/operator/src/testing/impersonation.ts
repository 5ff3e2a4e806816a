import { type Impersonation, KubeRest } from '@capp/kube';

export type Identity = Impersonation;

/** The identity Kubernetes gives a ServiceAccount's token. */
export function serviceAccountIdentity(namespace: string, name: string): Identity {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** A KubeRest on the admin kubeconfig that acts as `who` (the admin may impersonate). */
export function restAs(kubeconfigPath: string, who: Identity): KubeRest {
  return KubeRest.fromKubeconfig(kubeconfigPath, { impersonate: who });
}
