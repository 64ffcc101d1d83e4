#include "daemon/config/team_hours.hpp"

#include <algorithm>
#include <array>

#include "daemon/core/local_format.hpp"

namespace askdesk::config {

namespace {

constexpr std::array<std::string_view, 7> day_keys = {"mon", "tue", "wed", "thu",
                                                      "fri", "sat", "sun"};

std::string_view member_name(const rapidjson::Value::ConstMemberIterator& m) {
  return {m->name.GetString(), m->name.GetStringLength()};
}

// [["09:00","12:00"], ["13:00","17:00"]] at `path`; problems for anything else.
std::vector<core::daily_range> read_ranges(const rapidjson::Value& list, const std::string& path,
                                           json::problems& out) {
  std::vector<core::daily_range> ranges;
  if (!list.IsArray()) {
    out.add(path, R"(must be a list of ["HH:MM", "HH:MM"] ranges)");
    return ranges;
  }
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const auto& pair = list[i];
    const std::string at = json::index_path(path, i);
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
      out.add(at, R"(must be ["HH:MM", "HH:MM"], e.g. ["09:00", "17:00"])");
      continue;
    }
    const std::string_view from(pair[0].GetString(), pair[0].GetStringLength());
    const std::string_view to(pair[1].GetString(), pair[1].GetStringLength());
    if (!core::parse_clock_time(from, false) || !core::parse_clock_time(to, true)) {
      out.add(at, "times must be HH:MM from 00:00 to 23:59 (24:00 as an end), not [\"" +
                      std::string(from) + "\", \"" + std::string(to) + "\"]");
    } else if (auto r = core::parse_daily_range(from, to)) {
      ranges.push_back(*r);
    } else {
      out.add(at, "an empty range: opening and closing at " + std::string(from));
    }
  }
  if (auto overlap = core::find_overlap(ranges)) out.add(path, "ranges overlap: " + *overlap);
  return ranges;
}

// The part of `ranges` past midnight, as ranges of the next day.
std::vector<core::daily_range> spill(const std::vector<core::daily_range>& ranges) {
  std::vector<core::daily_range> out;
  for (const auto& r : ranges) {
    if (r.to > 24 * 60) out.push_back({0, r.to - 24 * 60});
  }
  return out;
}

void read_week(json::object_reader& hours, core::opening_hours::week& week) {
  for (std::size_t d = 0; d < day_keys.size(); ++d) {
    if (const auto* list = hours.raw(day_keys[d])) {
      week[d] = read_ranges(*list, hours.child_path(day_keys[d]), hours.out());
    }
  }
  hours.finish();
  // A range that runs over midnight must not overlap the next day's first ranges.
  for (std::size_t d = 0; d < day_keys.size(); ++d) {
    const auto& next = week[(d + 1) % 7];
    for (const auto& late : spill(week[d])) {
      for (const auto& early : next) {
        if (early.from < late.to) {
          hours.out().add(hours.child_path(day_keys[(d + 1) % 7]),
                          "overlaps " + std::string(day_keys[d]) +
                              "'s range running past midnight until " +
                              core::format_clock_time(late.to, true));
        }
      }
    }
  }
}

void read_exceptions(const rapidjson::Value& list, const std::string& path, json::problems& out,
                     const json::environment& env, core::opening_hours::exception_map& exceptions) {
  if (!list.IsArray()) {
    out.add(path, R"(must be a list of {"date": "YYYY-MM-DD", "hours": [...]})");
    return;
  }
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    auto e = json::object_reader::open(list[i], json::index_path(path, i), out, env);
    if (!e) continue;
    const auto text = e->required_string("date");
    const auto date = text ? core::parse_date(*text) : std::nullopt;
    if (text && !date) {
      e->out().add(e->child_path("date"), "must be a real date as YYYY-MM-DD, not '" + *text + "'");
    }
    std::vector<core::daily_range> ranges;
    if (const auto* hours = e->raw("hours")) {
      ranges = read_ranges(*hours, e->child_path("hours"), out);
    } else {
      out.add(e->child_path("hours"), "required ([] for closed all day)");
    }
    e->finish();
    if (date && !exceptions.emplace(*date, std::move(ranges)).second) {
      out.add(e->child_path("date"), "a second exception for " + *text);
    }
  }
}

// {"sms": {"en": "..."}, "*": {"en": "...", "fr": "..."}}
core::message_templates read_templates(const rapidjson::Value& value, const std::string& path,
                                       json::problems& out, const json::environment& env,
                                       std::span<const std::string_view> placeholders) {
  core::message_templates templates;
  if (!value.IsObject()) {
    out.add(path, R"(must be an object of channels ("*" for any), e.g. {"*": {"en": "..."}})");
    return templates;
  }
  for (auto c = value.MemberBegin(); c != value.MemberEnd(); ++c) {
    const std::string channel(member_name(c));
    const std::string channel_path = path + "." + channel;
    if (channel != "*" && !is_valid_id(channel)) {
      out.add(channel_path, "must be a channel name (webchat, sms, email, ...) or \"*\"");
      continue;
    }
    if (!c->value.IsObject() || c->value.MemberCount() == 0) {
      out.add(channel_path, R"(must be an object of languages, e.g. {"en": "..."})");
      continue;
    }
    auto& texts = templates[channel];
    for (auto l = c->value.MemberBegin(); l != c->value.MemberEnd(); ++l) {
      const std::string where = channel_path + "." + std::string(member_name(l));
      const auto language = core::normalize_language(member_name(l));
      if (!language) {
        out.add(where, "must be a language tag such as en, fr or fr-CA");
        continue;
      }
      auto text = json::read_string(l->value, where, out, env);
      if (!text) continue;
      if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        out.add(where, "must not be empty");
      } else if (auto problem = core::template_problem(*text, placeholders)) {
        out.add(where, *problem);
      } else {
        texts[*language] = std::move(*text);
      }
    }
  }
  return templates;
}

}  // namespace

core::message_templates default_auto_ack() {
  return {{"*",
           {{"en",
             "Thank you for your message. {team} is closed right now; a librarian will "
             "answer after we open on {next_open}."},
            {"fr",
             "Merci de votre message. {team} est fermé pour le moment ; une personne vous "
             "répondra après l'ouverture, {next_open}."}}}};
}

void read_team_hours(json::object_reader& r, team_options& team) {
  auto& out = r.out();
  const auto zone = r.optional_string("timezone");
  const bool known_zone = zone && core::is_known_zone(*zone);
  if (zone && !known_zone) {
    out.add(r.child_path("timezone"),
            "unknown time zone '" + *zone + "' (an IANA name such as America/Toronto)");
  }
  core::opening_hours::week week;
  core::opening_hours::exception_map exceptions;
  auto hours = r.object("hours");
  if (hours) read_week(*hours, week);
  const auto* listed = r.raw("exceptions");
  if (listed) read_exceptions(*listed, r.child_path("exceptions"), out, r.env(), exceptions);
  if ((hours || listed) && !zone) {
    out.add(r.child_path("timezone"), "required with hours (an IANA name such as America/Toronto)");
  } else if (listed && !hours) {
    out.add(r.child_path("hours"), "required with exceptions ({} for closed except on them)");
  }
  if (hours && known_zone) {
    team.hours.emplace(*zone, std::move(week), std::move(exceptions));
  }

  if (auto language = r.optional_string("language")) {
    if (auto tag = core::normalize_language(*language)) {
      team.language = *tag;
    } else {
      out.add(r.child_path("language"), "must be a language tag such as en, fr or fr-CA");
    }
  }
  static constexpr std::string_view closed_values[] = {"patron_name", "team", "next_open"};
  static constexpr std::string_view busy_values[] = {"patron_name", "team"};
  if (const auto* v = r.raw("auto_ack")) {
    if (!hours) {
      out.add(r.child_path("auto_ack"), "needs hours: a team without hours is always open");
    }
    team.auto_ack = read_templates(*v, r.child_path("auto_ack"), out, r.env(), closed_values);
  } else {
    team.auto_ack = default_auto_ack();
  }
  if (const auto* v = r.raw("busy_ack")) {
    team.busy_ack = read_templates(*v, r.child_path("busy_ack"), out, r.env(), busy_values);
  }
}

core::message_templates default_csat_question() {
  return {{"*",
           {{"en",
             "Thank you for contacting {team}. How satisfied are you with the help you got? "
             "Reply with a number from 1 (not at all) to 5 (very), and a comment if you like."},
            {"fr",
             "Merci d'avoir contacté {team}. Êtes-vous satisfait de l'aide reçue ? Répondez "
             "par un chiffre de 1 (pas du tout) à 5 (tout à fait), avec un commentaire si "
             "vous le souhaitez."}}}};
}

void read_team_csat(json::object_reader& r, team_options& team) {
  auto block = r.object("csat");
  if (!block) return;
  if (block->has("channels")) {
    team.csat_channels = block->string_list("channels");
    for (std::size_t i = 0; i < team.csat_channels.size(); ++i) {
      if (!is_valid_id(team.csat_channels[i])) {
        r.out().add(json::index_path(block->child_path("channels"), i),
                    "must be a channel name (webchat, sms, ...)");
      }
    }
  }
  if (const auto* question = block->raw("question")) {
    static constexpr std::string_view values[] = {"team"};
    rapidjson::Document wrapped;  // the languages under "*", as the other templates
    wrapped.SetObject();
    rapidjson::Value copy(*question, wrapped.GetAllocator());
    wrapped.AddMember("*", copy, wrapped.GetAllocator());
    team.csat_question =
        read_templates(wrapped, block->child_path("question"), r.out(), r.env(), values);
  }
  block->finish();
}

std::optional<std::string> csat_question(const team_options& team, std::string_view channel) {
  if (std::find(team.csat_channels.begin(), team.csat_channels.end(), channel) ==
      team.csat_channels.end()) {
    return std::nullopt;
  }
  const auto chosen = core::choose_template(team.csat_question, channel, "", team.language);
  if (!chosen) return std::nullopt;
  return core::fill_template(chosen->text, {{"team", team.name}});
}

core::opening_state opening_at(const team_options& team, core::timestamp now) {
  if (team.hours) return team.hours->at(now);
  core::opening_state always;
  always.open = true;
  return always;
}

namespace {

void write_ranges(json::writer& w, const std::vector<core::daily_range>& ranges) {
  w.start_array();
  for (const auto& r : ranges) {
    w.start_array()
        .string(core::format_clock_time(r.from, false))
        .string(core::format_clock_time(r.to, true))
        .end_array();
  }
  w.end_array();
}

void write_time(json::writer& w, std::string_view key, const std::optional<core::timestamp>& t) {
  w.key(key);
  if (t) {
    w.string(core::format_iso8601(*t));
  } else {
    w.null();
  }
}

}  // namespace

void write_opening(json::writer& w, const team_options& team, core::timestamp now,
                   std::string_view language) {
  const auto state = opening_at(team, now);
  w.start_object().field("team", team.id).field("name", team.name).field("open", state.open);
  write_time(w, "closes_at", state.open ? state.until : std::nullopt);
  write_time(w, "next_open", state.next_open);
  w.key("next_open_text");
  if (!state.open && state.next_open) {
    const auto tag = core::normalize_language(language).value_or(team.language);
    w.string(core::format_day_and_time(team.hours->local(*state.next_open), tag));
  } else {
    w.null();
  }
  w.key("timezone");
  if (!team.hours) {
    w.null().key("hours").null().key("exceptions").start_array().end_array().end_object();
    return;
  }
  w.string(team.hours->zone()).key("hours").start_object();
  for (std::size_t d = 0; d < day_keys.size(); ++d) {
    w.key(day_keys[d]);
    write_ranges(w, team.hours->weekly()[d]);
  }
  w.end_object().key("exceptions").start_array();
  const auto today = team.hours->local(now);
  const std::chrono::sys_days first{std::chrono::year(today.year) / today.month / today.day};
  for (const auto& [date, ranges] : team.hours->exceptions()) {
    const std::chrono::sys_days day{date};
    if (day < first || day > first + std::chrono::days(60)) continue;
    w.start_object().field("date", core::format_date(date)).key("hours");
    write_ranges(w, ranges);
    w.end_object();
  }
  w.end_array().end_object();
}

}  // namespace askdesk::config
