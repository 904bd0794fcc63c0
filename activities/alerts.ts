import { Context } from '@temporalio/activity';
import {
  emailChannel,
  raiseAlert,
  webhookChannel,
  type Alert,
  type AlertChannel,
  type AlertDelivery,
} from '../lib/alerts/alerts.js';
import type { AppConfig } from '../lib/config.js';
import type { Warehouse } from '../lib/warehouse/types.js';

export interface AlertInput extends Omit<Alert, 'link'> {
  /** The run the alert is about, for the Web UI link. */
  workflowId?: string;
  runId?: string;
}

/** Alert channels from the configuration: a webhook and/or e-mail. */
export function alertChannels(config: AppConfig): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (config.alerts.webhookUrl) channels.push(webhookChannel(config.alerts.webhookUrl));
  if (config.alerts.email) channels.push(emailChannel(config.alerts.email));
  return channels;
}

export function createAlertActivities(deps: {
  config: AppConfig;
  warehouse: Warehouse;
  channels?: AlertChannel[];
}) {
  const channels = deps.channels ?? alertChannels(deps.config);
  const { uiUrl, namespace } = deps.config.temporal;
  return {
    /**
     * Sends an alert (grouped with repeats of the same problem, when the warehouse answers); without
     * channels it is logged as a warning. Each channel that delivers is heartbeated, so when another
     * channel fails (and this attempt with it) Temporal's retry sends only to the ones still missing.
     */
    async sendAlert(input: AlertInput): Promise<{ sent: string[]; grouped: boolean }> {
      const ctx = Context.current();
      const { workflowId, runId, ...alert } = input;
      const link = workflowId
        ? `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`
        : undefined;
      if (channels.length === 0) {
        ctx.log.warn(`alert (no ALERT_WEBHOOK_URL or ALERT_EMAIL_TO configured): ${alert.title}`, {
          ...alert,
          link,
        });
      }
      return raiseAlert(
        {
          warehouse: deps.warehouse,
          channels,
          groupMinutes: deps.config.alerts.groupMinutes,
          resume: asDelivery(ctx.info.heartbeatDetails),
          onProgress: (d) => ctx.heartbeat(d),
          onGroupingError: (what, error) => {
            ctx.log.warn(what, { key: alert.key, error: error.message });
          },
        },
        { ...alert, link },
      );
    },
  };
}

/** The delivery an earlier attempt heartbeated, if that is what the details hold. */
function asDelivery(details: unknown): AlertDelivery | undefined {
  const d = details as Partial<AlertDelivery> | undefined;
  return d && typeof d.alert?.title === 'string' && Array.isArray(d.delivered)
    ? { alert: d.alert, delivered: d.delivered, recordPending: d.recordPending === true }
    : undefined;
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
