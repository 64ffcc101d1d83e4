// An independent client for tests/support/fake_mastodon: the npm package `masto` (written by
// other people from the same documentation, installed in tests/e2e/node_modules) walks the
// fake's API and writes what it saw, one JSON object a line, to --out. The C++ test
// (tests/integration/support/fake_mastodon_test.cpp) asserts on those lines. A step that
// fails writes {"event":"step_failed"} and the script goes on; the last line is "end".
//
//   node masto_client.mjs --base URL --token TOKEN --status ID --tag NAME --notification ID
//        --search TEXT --reply-to ID --long-text TEXT --out FILE
import { appendFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(new URL("../e2e/package.json", import.meta.url));
const { createRestAPIClient, MastoHttpError } = require("masto");

const { values: args } = parseArgs({
  options: Object.fromEntries(
    ["base", "token", "status", "tag", "notification", "search", "reply-to", "long-text", "out"].map(
      (name) => [name, { type: "string" }],
    ),
  ),
});

const emit = (event, fields = {}) =>
  appendFileSync(args.out, JSON.stringify({ event, ...fields }) + "\n");

const describeError = (error) => ({
  error: error?.constructor?.name ?? String(error),
  message: error?.message ?? "",
  ...(error instanceof MastoHttpError
    ? {
        statusCode: error.statusCode,
        remaining: error.cause?.headers?.get("x-ratelimit-remaining") ?? null,
        reset: error.cause?.headers?.get("x-ratelimit-reset") ?? null,
      }
    : {}),
});

async function step(name, action) {
  try {
    await action();
  } catch (error) {
    emit("step_failed", { step: name, ...describeError(error) });
  }
}

// Runs `action`, which should fail: writes the error under `event`.
async function expectFailure(event, action) {
  try {
    const value = await action();
    emit("step_failed", { step: event, unexpected: "no error", value });
  } catch (error) {
    emit(event, describeError(error));
  }
}

const masto = createRestAPIClient({ url: args.base, accessToken: args.token, timeout: 20000 });
const summary = (s) => ({
  id: s.id,
  acct: s.account.acct,
  visibility: s.visibility,
  content: s.content,
  inReplyToId: s.inReplyToId,
  spoilerText: s.spoilerText,
  sensitive: s.sensitive,
  language: s.language,
  url: s.url,
  createdAt: s.createdAt,
  mentions: s.mentions.map((m) => m.acct),
  tags: s.tags.map((t) => t.name),
  media: s.mediaAttachments.map((m) => ({
    type: m.type,
    url: m.url,
    previewUrl: m.previewUrl,
    description: m.description,
  })),
});

await step("verify_credentials", async () => {
  const me = await masto.v1.accounts.verifyCredentials();
  emit("me", { id: me.id, acct: me.acct, username: me.username, url: me.url });
});

// Every mention, filtered ones too, two a page: masto follows the Link header's rel="next"
// until an empty page comes back without one.
await step("notifications", async () => {
  const pages = [];
  const paginator = masto.v1.notifications.list({
    types: ["mention"],
    includeFiltered: true,
    limit: 2,
  });
  for await (const page of paginator) {
    pages.push(
      page.map((n) => ({
        id: n.id,
        type: n.type,
        acct: n.account.acct,
        statusId: n.status?.id ?? null,
        visibility: n.status?.visibility ?? null,
      })),
    );
    if (pages.length > 20) break;
  }
  emit("notifications", { pages });
});

await step("unfiltered_notifications", async () => {
  const page = await masto.v1.notifications.list({ types: ["mention"] });
  emit("unfiltered_notifications", { ids: page.map((n) => n.id) });
});

await step("every_type", async () => {
  const page = await masto.v1.notifications.list();
  emit("every_type", { types: page.map((n) => n.type) });
});

await expectFailure("notification_failed", () =>
  masto.v1.notifications.$select(args.notification).fetch(),
);
await expectFailure("notification_not_json", () =>
  masto.v1.notifications.$select(args.notification).fetch(),
);
await step("notification", async () => {
  const n = await masto.v1.notifications.$select(args.notification).fetch();
  emit("notification", { id: n.id, type: n.type, acct: n.account.acct });
});

await step("status", async () => {
  const s = await masto.v1.statuses.$select(args.status).fetch();
  emit("status", summary(s));
});

await step("context", async () => {
  const context = await masto.v1.statuses.$select(args.status).context.fetch();
  emit("context", {
    ancestors: context.ancestors.map((s) => s.id),
    descendants: context.descendants.map((s) => s.id),
  });
});

await step("tag", async () => {
  const pages = [];
  for await (const page of masto.v1.timelines.tag.$select(args.tag).list({ limit: 2 })) {
    pages.push(page.map((s) => s.id));
    if (pages.length > 20) break;
  }
  emit("tag", { pages });
});

await step("instance", async () => {
  const instance = await masto.v2.instance.fetch();
  emit("instance", {
    domain: instance.domain,
    version: instance.version,
    maxCharacters: instance.configuration.statuses.maxCharacters,
    charactersReservedPerUrl: instance.configuration.statuses.charactersReservedPerUrl,
    contact: instance.contact.account.acct,
  });
});

await step("search", async () => {
  const results = await masto.v2.search.list({ q: args.search, type: "statuses" });
  emit("search", {
    statuses: results.statuses.map((s) => s.id),
    accounts: results.accounts.length,
    hashtags: results.hashtags.length,
  });
});

await step("post", async () => {
  const post = () =>
    masto.v1.statuses.create(
      {
        status: "@ada We open at nine on Saturdays. https://library.example/hours",
        inReplyToId: args["reply-to"],
        visibility: "direct",
        language: "en",
      },
      { requestInit: { headers: { "Idempotency-Key": "reply-1" } } },
    );
  const first = await post();
  const again = await post();
  emit("posted", {
    first: summary(first),
    again: summary(again),
    application: first.application?.name ?? null,
  });
});

await expectFailure("too_long", () =>
  masto.v1.statuses.create(
    { status: args["long-text"] },
    { requestInit: { headers: { "Idempotency-Key": "too-long" } } },
  ),
);

await expectFailure("rate_limited", () =>
  masto.v1.statuses.create(
    { status: "One more" },
    { requestInit: { headers: { "Idempotency-Key": "reply-2" } } },
  ),
);

await expectFailure("wrong_token", () =>
  createRestAPIClient({ url: args.base, accessToken: "wrong" }).v1.accounts.verifyCredentials(),
);

emit("end");
