export type { KubeBinaries, OcmBuild } from './lib/binaries';
export { knativeAdmissionBinary, kubeBinaries, ocmBuild } from './lib/binaries';
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, ensureChromium } from './lib/chromium';
export type { ClientCertificate, ServingCertificate } from './lib/client-certs';
export { createClientCa, createServingCertificate, mintClientCertificate } from './lib/client-certs';
export type { ControlPlane, ControlPlaneInfo, ControlPlaneOptions } from './lib/control-plane';
export {
  ADMIN_USER,
  CONTROL_PLANE_INFO_FILE,
  DEFAULT_CONTROLLERS,
  DEFAULT_STATIC_USERS,
  mintServiceAccountToken,
  SERVICE_ACCOUNT_ISSUER,
  serviceAccountIdentity,
  startControlPlane,
} from './lib/control-plane';
export type { CrdSet } from './lib/crds';
export { installCrds, readCrdDir, referenceCrds, testCrds } from './lib/crds';
export type { MigratedDatabase } from './lib/database';
export { createMigratedDatabase, prismaCli, withDatabase } from './lib/database';
export type { Environment, EnvironmentInfo, EnvironmentOptions } from './lib/environment';
export { ENV_INFO_FILE, readEnvironmentInfo, startEnvironment, testEnvironment } from './lib/environment';
export { FALLBACK_CRD_SPECS, fallbackCrds } from './lib/fallback-crds';
export { globalSetup, globalTeardown } from './lib/jest-hooks';
export type { OperatorLogLine, OperatorStartOptions } from './lib/operator-process';
export { OperatorProcess } from './lib/operator-process';
export { CLUSTER_STATE_DIR, REPO_ROOT, SHARED_CRDS_DIR } from './lib/paths';
export { freePort } from './lib/ports';
export type { Postgres, PostgresOptions } from './lib/postgres';
export { DEFAULT_DATABASE, ensurePostgresInstalled, POSTGRES_PASSWORD, startPostgres } from './lib/postgres';
export type { ManagedProcess } from './lib/process';
export {
  killPidFile,
  killPids,
  pidAlive,
  processStartTime,
  ProcessGroup,
  sameProcessAlive,
} from './lib/process';
export type { Redis, RedisOptions } from './lib/redis';
export { ensureRedisInstalled, redisPing, startRedis } from './lib/redis';
export { waitFor } from './lib/wait';
export type { KnativeAdmission } from './lib/knative-admission';
export {
  KNATIVE_DEFAULTING_WEBHOOK,
  KNATIVE_FEATURES,
  KNATIVE_NAMESPACE,
  KNATIVE_VALIDATING_WEBHOOK,
  startKnativeAdmission,
} from './lib/knative-admission';
export type { ManagedClusterHandle, MultiCluster, MultiClusterOptions, WorkAgent } from './lib/multi-cluster';
export {
  embeddedKubeconfig,
  OCM_AGENT_NAMESPACE,
  OCM_HUB_NAMESPACE,
  startMultiCluster,
} from './lib/multi-cluster';
export type { MultiClusterOperatorsOptions } from './lib/multi-cluster-operators';
export { markKnativeServiceReady, MultiClusterOperators } from './lib/multi-cluster-operators';
