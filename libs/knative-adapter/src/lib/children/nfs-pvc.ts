import { Capp, NfsVolume } from '@capp/capp-model';

import { childMetadata } from '../meta';
import { nfsPvcName } from '../names';
import { NFS_PVC } from '../resources';
import { K8sObject } from '../types';

export type NfsPvcSpec = {
  server: string;
  path: string;
  capacity: { storage: string };
  accessModes: string[];
};

/**
 * The NfsPvc of one NFS volume; nfspvc-operator creates a PV and a PVC of the same name from it.
 * Its server, path, capacity and access modes are immutable (the CRD's CEL rules).
 */
export function makeNfsPvc(capp: Capp, volume: NfsVolume): K8sObject<NfsPvcSpec> {
  return {
    apiVersion: NFS_PVC.apiVersion,
    kind: NFS_PVC.kind,
    metadata: childMetadata(capp, nfsPvcName(volume)),
    spec: {
      server: volume.server,
      path: volume.path,
      capacity: { storage: String(volume.capacity.storage) },
      accessModes: ['ReadWriteMany'],
    },
  };
}
