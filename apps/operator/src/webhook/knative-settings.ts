import {
  type KnativeConfigData,
  KnativeConfigError,
  type KnativeSettings,
  knativeSettings,
  PLATFORM_KNATIVE_SETTINGS,
} from '@capp/capp-model';
import { CONFIGMAP_TYPE, Informer, type KubeRest } from '@capp/kube';
import type { Logger } from 'pino';

/** How long admission waits for the first list of Knative's ConfigMaps before using the defaults. */
const FIRST_SYNC_MS = 5000;

/**
 * The cluster's Knative settings, read as Serving reads them: `config-features`, `config-defaults`
 * and `config-autoscaler` in Serving's namespace, watched (no polling: an idle cluster costs nothing).
 * A ConfigMap Serving would refuse keeps the last good settings, as Serving's own store does; when the
 * ConfigMaps cannot be read at all (no RBAC, no Knative), the platform's documented settings apply.
 */
export class KnativeSettingsSource {
  private readonly configMaps: Informer;
  private last: { key: string; settings: KnativeSettings } = { key: '', settings: PLATFORM_KNATIVE_SETTINGS };

  constructor(
    rest: KubeRest,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {
    this.configMaps = new Informer(
      rest,
      CONFIGMAP_TYPE,
      {},
      {
        namespace,
        onError: (err) =>
          logger.warn(
            { event: 'knative-config-watch-error', namespace, err: String(err) },
            "cannot watch Knative's ConfigMaps; admission uses the last known (or the platform's) settings",
          ),
      },
    );
  }

  async start(): Promise<void> {
    this.configMaps.start();
    const synced = await Promise.race([
      this.configMaps.waitForSync().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), FIRST_SYNC_MS).unref()),
    ]);
    if (!synced)
      this.logger.warn(
        { event: 'knative-config-not-synced', namespace: this.namespace },
        "Knative's ConfigMaps not listed yet; admission starts with the platform's settings",
      );
  }

  stop(): Promise<void> {
    return this.configMaps.stop();
  }

  /** The current settings (recomputed only when one of the three ConfigMaps changed). */
  settings(): KnativeSettings {
    const data: KnativeConfigData = {};
    const versions: string[] = [];
    for (const [field, name] of [
      ['features', 'config-features'],
      ['defaults', 'config-defaults'],
      ['autoscaler', 'config-autoscaler'],
    ] as const) {
      const cm = this.configMaps.get(this.namespace, name) as
        { metadata: { resourceVersion?: string }; data?: Record<string, string> } | undefined;
      versions.push(cm?.metadata.resourceVersion ?? '-');
      if (cm) data[field] = cm.data ?? {};
    }
    const key = versions.join('/');
    if (key === this.last.key) return this.last.settings;
    try {
      this.last = { key, settings: knativeSettings(data) };
      this.logger.info(
        { event: 'knative-config-loaded', namespace: this.namespace, versions: key },
        'Knative settings loaded',
      );
    } catch (err) {
      if (!(err instanceof KnativeConfigError)) throw err;
      this.last = { key, settings: this.last.settings };
      this.logger.warn(
        { event: 'knative-config-invalid', namespace: this.namespace, err: err.message },
        'a Knative ConfigMap Serving would refuse; keeping the previous settings',
      );
    }
    return this.last.settings;
  }
}
