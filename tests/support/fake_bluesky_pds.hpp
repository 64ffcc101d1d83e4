// A stand-in for the library's Bluesky PDS with Bluesky's chat service behind it, on loopback,
// for integration tests of direct messages: no chat service can run here (the local network of
// atproto_network.hpp has none). It answers XRPC as the lexicons and the reference PDS
// (bluesky-social/atproto, packages/pds) do: com.atproto.server.createSession and
// refreshSession (JWTs whose payload carries sub, scope and exp), an empty
// app.bsky.notification.listNotifications and updateSeen, and, through the proxy header
// "atproto-proxy: did:web:api.bsky.chat#bsky_chat" for a session whose app password may use
// direct messages, chat.bsky.convo.getLog, getConvo and sendMessage. Every other method is
// 501 MethodNotImplemented (and recorded: a test asserts no post was made). Tests expire and
// revoke tokens, take DM access away and queue failures. Runs askdesk's own HTTP server on its
// own thread; every method here is safe to call from any thread while it serves.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace askdesk::testing {

class fake_bluesky_pds {
 public:
  // The library's account: handle library.test, display name "The Library".
  static constexpr const char* library_did = "did:plc:librarytestaccountdm2345";
  static constexpr const char* library_handle = "library.test";
  static constexpr const char* default_app_password = "abcd-2345-efgh-6789";
  // The only atproto-proxy value the chat methods are served through.
  static constexpr const char* chat_proxy = "did:web:api.bsky.chat#bsky_chat";

  explicit fake_bluesky_pds(std::string app_password = default_app_password);
  ~fake_bluesky_pds();
  fake_bluesky_pds(const fake_bluesky_pds&) = delete;
  fake_bluesky_pds& operator=(const fake_bluesky_pds&) = delete;

  // "http://127.0.0.1:PORT": the connector's `service`.
  std::string base() const;
  const std::string& app_password() const { return app_password_; }

  // ---- sessions ----------------------------------------------------------------------------

  // createSession with the library's handle (any case) or DID and the app password answers
  // {did, handle, accessJwt, refreshJwt, active}; anything else 401 {"error":
  // "AuthenticationRequired","message":"Invalid identifier or password"}. An access token
  // expires in 2 hours, a refresh token in 90 days (their payloads' exp). refreshSession with
  // a refresh token as Bearer answers a new pair of the same scope and revokes the one used
  // (the PDS's grace period for a reused token is not modelled).
  //
  // true (the default): the app password was made with access to direct messages; its
  // sessions have the scope com.atproto.appPassPrivileged. false: com.atproto.appPass, whose
  // chat calls the PDS refuses with 400 {"error":"InvalidToken","message":"Bad token method"}
  // (pipethrough.ts, PRIVILEGED_METHODS). Decides for sessions created afterwards.
  void allow_direct_messages(bool allowed);
  // Every access token issued so far answers 400 {"error":"ExpiredToken","message":"Token has
  // expired"} from now on, as one past its exp does.
  void expire_access_tokens();
  // Every refresh token issued so far is refused from now on: refreshSession answers 400
  // {"error":"ExpiredToken","message":"Token has been revoked"}.
  void revoke_refresh_tokens();
  // Sessions created (createSession answered 200) and refreshed (refreshSession answered 200).
  std::size_t logins() const;
  std::size_t refreshes() const;

  // ---- the chat service --------------------------------------------------------------------

  struct profile {
    std::string did;  // "did:plc:..."
    std::string handle;
    std::string display_name;  // "": absent
  };
  profile library() const;
  // Throws std::invalid_argument for a DID not starting "did:", an empty handle, or a DID
  // already known.
  void add_patron(const profile& patron);
  // The library's direct conversation with a patron, begun now (a logBeginConvo); the chat
  // service keeps one per pair, so asked again it returns the same id. Ids, message ids and
  // revs are TIDs from one clock: a later one sorts after an earlier one. Throws
  // std::invalid_argument for an unknown patron.
  std::string add_convo(const std::string& patron_did);
  // The patron writes in that conversation (a logCreateMessage). `facets` is a JSON array of
  // app.bsky.richtext.facet ("": none). Returns the message's id. Throws std::invalid_argument
  // for an unknown conversation.
  std::string patron_sends(const std::string& convo_id, const std::string& text,
                           const std::string& facets = "");
  // Another entry in the log, of a type the lexicon knows: "logBeginConvo", "logAcceptConvo",
  // "logMuteConvo", "logUnmuteConvo", "logLeaveConvo" (with rev and convoId), or
  // "logReadMessage" (with the conversation's latest message, as the library read up to it).
  // Returns its rev. Throws std::invalid_argument for an unknown conversation or type, or a
  // logReadMessage in a conversation without messages.
  std::string add_log(const std::string& convo_id, const std::string& type);
  // The sender deletes a message: a logDeleteMessage, and from then on every entry about it
  // shows a chat.bsky.convo.defs#deletedMessageView (no text). Throws std::invalid_argument
  // for an unknown message.
  void delete_message(const std::string& convo_id, const std::string& message_id);
  // The newest rev in the log ("" before the first entry).
  std::string latest_rev() const;
  // How many entries getLog answers at most (default 50). getLog?cursor=REV answers the
  // entries after REV, oldest first, with the last one's rev as cursor (the cursor sent when
  // there are none); without a cursor it starts at the beginning of the log.
  void set_log_page(std::size_t entries);

  // ---- failures and records ----------------------------------------------------------------

  // The next call of `nsid` ("chat.bsky.convo.getLog") gets exactly this answer, whatever its
  // token and headers, instead of normal service. Queued answers are used in order.
  void fail_next(const std::string& nsid, int status, const std::string& body);

  struct request {
    std::string http_method;  // GET, POST
    std::string nsid;         // "chat.bsky.convo.getLog"; "" for a path outside /xrpc/
    std::string query;        // as sent
    std::string body;
    std::string proxy;  // the atproto-proxy header; "" without one
    std::string scope;  // the Bearer token's scope; "" without a token this fake issued
    int status = 0;     // answered
    std::chrono::steady_clock::time_point at;
  };
  // Every request, in arrival order; or those of one method.
  std::vector<request> requests() const;
  std::vector<request> requests(const std::string& nsid) const;
  // Waits until at least `n` calls of `nsid` were answered; false after `wait`.
  bool wait_for_requests(const std::string& nsid, std::size_t n,
                         std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

  // A message the library sent (sendMessage answered 200).
  struct sent_message {
    std::string convo_id;
    std::string id;
    std::string rev;
    std::string text;
    std::string facets;  // the JSON array as sent; "" without one
    std::chrono::steady_clock::time_point at;
  };
  std::vector<sent_message> sent() const;
  // Waits until at least `n` messages were sent; false after `wait`.
  bool wait_for_sent(std::size_t n,
                     std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

 private:
  struct state;

  const std::string app_password_;
  std::shared_ptr<state> state_;
  int port_ = 0;
  std::thread server_thread_;
};

}  // namespace askdesk::testing
