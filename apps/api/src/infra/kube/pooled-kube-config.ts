import { Agent as HttpsAgent, type AgentOptions } from 'node:https';

import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

/** How long a replaced agent may finish what it is doing before its sockets are closed. */
const RETIRE_AFTER_MS = 60_000;

/**
 * A KubeConfig whose API clients reuse connections. @kubernetes/client-node 1.4 builds a new
 * `https.Agent` for every call, so every call pays a TCP and TLS handshake with the API server. This
 * one hands every call the same keep-alive agent for as long as the TLS credentials stay the same; a
 * rotated CA or client certificate gets a new agent and the old one is closed a minute later.
 * Proxies and plain-HTTP servers keep client-node's own agents.
 */
export class PooledKubeConfig extends KubeConfig {
  private pooled?: { key: string; agent: HttpsAgent };

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof HttpsAgent)) return;
    const options = (fresh as HttpsAgent & { options: AgentOptions }).options;
    const key = JSON.stringify([
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.passphrase,
      options.rejectUnauthorized,
      options.servername,
    ]);
    if (this.pooled?.key !== key) {
      const retired = this.pooled?.agent;
      if (retired) setTimeout(() => retired.destroy(), RETIRE_AFTER_MS).unref();
      this.pooled = { key, agent: new HttpsAgent({ ...options, keepAlive: true }) };
    }
    fresh.destroy(); // never connected
    context.setAgent(this.pooled.agent);
  }

  /** Closes the pooled connections (at shutdown). */
  close(): void {
    this.pooled?.agent.destroy();
    this.pooled = undefined;
  }
}
