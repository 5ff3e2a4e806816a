import { KubeConfig } from '@kubernetes/client-node';

import { KubeRest } from '../kube/rest';

export interface Identity {
  user: string;
  groups: string[];
}

/** The identity Kubernetes gives a ServiceAccount's token. */
export function serviceAccountIdentity(namespace: string, name: string): Identity {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** Impersonates an identity on every request of a KubeRest (which takes its headers from here). */
class ImpersonatingKubeConfig extends KubeConfig {
  constructor(private readonly who: Identity) {
    super();
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    // Node sends an array as one header line per value, as impersonation of several groups needs.
    const withHeaders = opts as { headers?: Record<string, string | string[] | number | undefined> };
    withHeaders.headers = {
      ...withHeaders.headers,
      'Impersonate-User': this.who.user,
      'Impersonate-Group': this.who.groups,
    };
  }
}

/** A KubeRest on the admin kubeconfig that acts as `who` (the admin may impersonate). */
export function restAs(kubeconfigPath: string, who: Identity): KubeRest {
  const kc = new ImpersonatingKubeConfig(who);
  kc.loadFromFile(kubeconfigPath);
  return new KubeRest(kc);
}
