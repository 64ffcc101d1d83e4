#!/bin/sh
# The layering of the connector contract (docs/connectors.md, "Checklist"): prints each
# violation and fails when there is one.
#  - connectors/ includes nothing from daemon/store or daemon/hub;
#  - no channel name appears as a string literal in daemon/hub, daemon/net, daemon/store or
#    web/dashboard (they read the channel traits instead). The patron's own email address, a
#    profile field and not a channel (core::patron_contact_fields, the dashboard's
#    patron.email), is the one exception.
set -u
cd "$(dirname "$0")/.."
status=0
if grep -rnE '#include "daemon/(store|hub)/' connectors; then
  echo "lint.layers: a connector includes daemon/store or daemon/hub (use connector_context)"
  status=1
fi
channels='webchat|sms|email|xmpp|telegram|mastodon|bluesky|replay'
if grep -rnwiE "[\"'\`]($channels)[\"'\`]" daemon/hub daemon/net daemon/store web/dashboard |
  grep -v -e 'patron\.email'; then
  echo "lint.layers: a channel is named in the core or the dashboard (read its traits)"
  status=1
fi
exit $status
