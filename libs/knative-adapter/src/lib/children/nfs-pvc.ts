import { Capp, KubeObject, NfsVolume } from '@capp/capp-model';

import { childMetadata } from '../meta';
import { nfsPvcName } from '../names';
import { NFS_PVC } from '../resources';

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
export function makeNfsPvc(capp: Capp, volume: NfsVolume): KubeObject<NfsPvcSpec> {
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
