// The Telegram channel: patrons message the library's bot through the Bot API
// (connectors/telegram/README.md).
//
// Inbound, by long polling (mode "poll", the default: getUpdates with offset = the last
// stored update_id + 1, saved only once the batch is durable; one daemon polls a bot at a
// time, by a Redis lease) or by webhook (mode "webhook": POST /webhooks/telegram/<id>, the
// X-Telegram-Bot-Api-Secret-Token header checked in constant time, 200 only once the update
// is durable, 503 while Redis is away; askdesk calls setWebhook itself, and deleteWebhook
// when polling). Private chats only unless "groups"; bots are never stored; photos and
// documents become attachments that staff fetch through the daemon (the token never reaches
// a browser). "/start PAYLOAD" (a t.me deep link) routes the patron's next messages to the
// team or topic it names and is not shown; "/stop" opts out, "/start" opts back in.
//
// Outbound: sendMessage with plain text; replies of up to 16,000 characters are split at
// paragraph or sentence boundaries into messages of 4,096, sent in order, at most one per
// second per chat and 30 per second per bot; 429 waits retry_after, 5xx is retried, 403 (the
// patron blocked the bot) is permanent and shown to staff.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_telegram_factory();

}  // namespace askdesk::connectors
