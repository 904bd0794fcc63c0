#!/bin/sh
# Writes Alertmanager's configuration: the base file (alertmanager.yml) with the channels set in
# the environment appended to its last receiver, `oncall`. Values are written as single-quoted
# YAML strings, so any character in them is kept as it is.
#   render-config.sh <base.yml> <out.yml>
set -eu
base=$1
out=$2
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
umask 077
cat "$base" >"$out"
if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
  cat >>"$out" <<YAML
    slack_configs:
      - api_url: $(quote "$ALERT_WEBHOOK_URL")
        send_resolved: true
YAML
fi
if [ -n "${ALERT_EMAIL_TO:-}" ]; then
  if [ -z "${SMTP_HOST:-}" ]; then
    echo "render-config.sh: ALERT_EMAIL_TO is set but SMTP_HOST is not" >&2
    exit 1
  fi
  cat >>"$out" <<YAML
    email_configs:
      - to: $(quote "$ALERT_EMAIL_TO")
        from: $(quote "${ALERT_EMAIL_FROM:-egx-pipeline@localhost}")
        smarthost: $(quote "$SMTP_HOST:${SMTP_PORT:-587}")
        send_resolved: true
YAML
  if [ -n "${SMTP_USER:-}" ]; then
    cat >>"$out" <<YAML
        auth_username: $(quote "$SMTP_USER")
        auth_password: $(quote "${SMTP_PASSWORD:-}")
YAML
  fi
fi
if [ -z "${ALERT_WEBHOOK_URL:-}${ALERT_EMAIL_TO:-}" ]; then
  echo "render-config.sh: neither ALERT_WEBHOOK_URL nor ALERT_EMAIL_TO is set; alerts only show in Alertmanager's UI" >&2
fi
