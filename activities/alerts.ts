import { Context } from '@temporalio/activity';
import {
  emailChannel,
  raiseAlert,
  webhookChannel,
  type Alert,
  type AlertChannel,
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
    /** Sends an alert (grouped with repeats of the same problem); without channels it is logged as a warning. */
    async sendAlert(input: AlertInput): Promise<{ sent: string[]; grouped: boolean }> {
      const { workflowId, runId, ...alert } = input;
      const link = workflowId
        ? `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`
        : undefined;
      if (channels.length === 0) {
        Context.current().log.warn(
          `alert (no ALERT_WEBHOOK_URL or ALERT_EMAIL_TO configured): ${alert.title}`,
          {
            ...alert,
            link,
          },
        );
      }
      return raiseAlert(
        { warehouse: deps.warehouse, channels, groupMinutes: deps.config.alerts.groupMinutes },
        { ...alert, link },
      );
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
