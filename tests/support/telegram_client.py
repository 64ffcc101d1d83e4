# An independent Bot API client checking the fake Telegram (tests/support/fake_telegram.cpp):
# Debian's python-telegram-bot 13 (python3-python-telegram-bot, so always run with
# /usr/bin/python3) does a fixed sequence of calls against --base and prints one JSON object a
# line of what the library made of each answer, on stdout or in --out. A step that raises
# something unexpected prints {"event": "step_failed", "step": ..., "error": ...} and the
# sequence goes on; the script exits 0 once every step ran.
#
# What the test sets up first, and the steps in order:
#   updates pending (any number, any types); a failure queued for the first sendMessage
#   (a 429 with retry_after); --blocked blocked.
#   get_me          {"id", "username", "first_name", "is_bot", "can_join_groups"}
#   updates         getUpdates(timeout=0): {"updates": [{"update_id", "kinds" (the Update's
#                   keys besides update_id), and for a message "message_id", "from_id",
#                   "chat_id", "chat_type", "date", "text", "caption", "entities" [[type,
#                   offset, length]], "photo" [[width, height, file_size, file_id]],
#                   "document" {file_name, mime_type, file_size, file_id}}]}
#   file            per photo (its largest size) and document: getFile and the download:
#                   {"file_id", "file_unique_id", "file_size", "file_path" (the URL the
#                   library made), "content_hex"}
#   bad_file        getFile("no-such-file"): {"error" (class name), "message"}
#   chat_action     sendChatAction(--chat, typing): {"result"}
#   retry_after     sendMessage(--chat) meeting the queued 429: {"error", "retry_after"}
#   sent            sendMessage(--chat, --text): {"message_id", "text", "chat_id", "chat_type",
#                   "from_id", "from_username", "date"}
#   blocked         sendMessage(--blocked): {"error", "message"}
#   empty_text      sendMessage(--chat, "  "): {"error", "message"}
#   confirmed       getUpdates(offset=last + 1, timeout=0): {"count"}
#   webhook_info    {"url", "pending_update_count", "has_custom_certificate"}
#   webhook_set     setWebhook(--webhook): {"result"}; then
#   conflict        getUpdates meeting the webhook: {"error", "message"}; then
#   webhook_deleted deleteWebhook: {"result"}
#   wrong_token     getMe with another token: {"error", "message"}
import argparse
import json
import sys
import warnings

warnings.filterwarnings('ignore', message='python-telegram-bot is using upstream urllib3')

import telegram  # noqa: E402  (after the warning filter)
import telegram.error  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--base', required=True, help='http://127.0.0.1:PORT')
    parser.add_argument('--token', required=True)
    parser.add_argument('--chat', type=int, required=True, help='the chat to send to')
    parser.add_argument('--blocked', type=int, required=True, help='a chat that blocked the bot')
    parser.add_argument('--text', default='Hello from the library')
    parser.add_argument('--webhook', default='http://127.0.0.1:9/telegram/webhook')
    parser.add_argument('--out', help='write the events here instead of stdout')
    args = parser.parse_args()
    out = open(args.out, 'w', encoding='utf-8') if args.out else sys.stdout

    def emit(event, **fields):
        out.write(json.dumps({'event': event, **fields}) + '\n')
        out.flush()

    def step(name, action):
        try:
            action()
        except Exception as e:  # noqa: BLE001  (reported, and the next step runs)
            emit('step_failed', step=name, error=f'{type(e).__name__}: {e}')

    def expect_error(name, call):
        try:
            result = call()
            emit(name, error=None, result=str(result))
        except telegram.error.RetryAfter as e:
            emit(name, error=type(e).__name__, retry_after=int(e.retry_after), message=e.message)
        except telegram.error.TelegramError as e:
            emit(name, error=type(e).__name__, message=e.message)

    bot = telegram.Bot(args.token, base_url=f'{args.base}/bot',
                       base_file_url=f'{args.base}/file/bot')
    seen = []

    def get_me():
        me = bot.get_me()
        emit('get_me', id=me.id, username=me.username, first_name=me.first_name,
             is_bot=me.is_bot, can_join_groups=me.can_join_groups)

    def get_updates():
        updates = bot.get_updates(timeout=0)
        seen.extend(updates)
        listed = []
        for u in updates:
            item = {'update_id': u.update_id,
                    'kinds': sorted(k for k in u.to_dict() if k != 'update_id')}
            m = u.message
            if m is not None:
                item.update(message_id=m.message_id, from_id=m.from_user.id, chat_id=m.chat.id,
                            chat_type=m.chat.type, date=int(m.date.timestamp()), text=m.text,
                            caption=m.caption,
                            entities=[[e.type, e.offset, e.length] for e in m.entities],
                            photo=[[p.width, p.height, p.file_size, p.file_id] for p in m.photo])
                if m.document is not None:
                    d = m.document
                    item['document'] = {'file_name': d.file_name, 'mime_type': d.mime_type,
                                        'file_size': d.file_size, 'file_id': d.file_id}
            listed.append(item)
        emit('updates', updates=listed)

    def download(file_id):
        f = bot.get_file(file_id)
        content = bytes(f.download_as_bytearray())
        emit('file', file_id=f.file_id, file_unique_id=f.file_unique_id, file_size=f.file_size,
             file_path=f.file_path, content_hex=content.hex())

    def files():
        for u in seen:
            m = u.message
            if m is None:
                continue
            if m.photo:
                step('file', lambda: download(m.photo[-1].file_id))
            if m.document is not None:
                step('file', lambda: download(m.document.file_id))

    def chat_action():
        emit('chat_action', result=bot.send_chat_action(args.chat, telegram.ChatAction.TYPING))

    def send():
        m = bot.send_message(args.chat, args.text)
        emit('sent', message_id=m.message_id, text=m.text, chat_id=m.chat.id, chat_type=m.chat.type,
             from_id=m.from_user.id, from_username=m.from_user.username,
             date=int(m.date.timestamp()))

    def confirm():
        last = max((u.update_id for u in seen), default=0)
        emit('confirmed', count=len(bot.get_updates(offset=last + 1, timeout=0)))

    def webhook_info():
        info = bot.get_webhook_info()
        emit('webhook_info', url=info.url, pending_update_count=info.pending_update_count,
             has_custom_certificate=info.has_custom_certificate)

    def webhook():
        emit('webhook_set', result=bot.set_webhook(args.webhook, secret_token='s3cret-token'))
        expect_error('conflict', lambda: bot.get_updates(timeout=0))
        emit('webhook_deleted', result=bot.delete_webhook())

    def wrong_token():
        stranger = telegram.Bot(args.token.split(':')[0] + ':wrongTokenWrongTokenWrongToken0000',
                                base_url=f'{args.base}/bot',
                                base_file_url=f'{args.base}/file/bot')
        expect_error('wrong_token', stranger.get_me)

    step('get_me', get_me)
    step('updates', get_updates)
    step('files', files)
    step('bad_file', lambda: expect_error('bad_file', lambda: bot.get_file('no-such-file')))
    step('chat_action', chat_action)
    step('retry_after',
         lambda: expect_error('retry_after', lambda: bot.send_message(args.chat, args.text)))
    step('sent', send)
    step('blocked',
         lambda: expect_error('blocked', lambda: bot.send_message(args.blocked, 'Are you there?')))
    step('empty_text',
         lambda: expect_error('empty_text', lambda: bot.send_message(args.chat, '  ')))
    step('confirmed', confirm)
    step('webhook_info', webhook_info)
    step('webhook', webhook)
    step('wrong_token', wrong_token)
    emit('end')


if __name__ == '__main__':
    main()
