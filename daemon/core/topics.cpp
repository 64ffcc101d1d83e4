#include "daemon/core/topics.hpp"

#include <re2/re2.h>
#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>

#include <rapidjson/document.h>

#include "daemon/core/text.hpp"

namespace askdesk::core {
namespace {

// Words too common to say anything about a topic; they neither train nor explain.
const std::set<std::string, std::less<>> stop_words = {
    "a",     "about",  "an",   "and",  "are",   "as",    "at",   "be",    "but", "by",     "can",
    "could", "do",     "does", "for",  "from",  "get",   "have", "hello", "hi",  "how",    "i",
    "if",    "in",     "is",   "it",   "me",    "my",    "of",   "on",    "or",  "please", "so",
    "thank", "thanks", "that", "the",  "there", "this",  "to",   "was",   "we",  "what",   "when",
    "where", "which",  "who",  "will", "with",  "would", "you",  "your"};

bool is_word_code_point(utf8proc_int32_t c) {
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
      return true;
    default:
      return false;
  }
}

// `words` (folded) without the stop words.
std::vector<std::string> content_words(std::vector<std::string> words) {
  std::erase_if(words, [](const std::string& w) { return stop_words.contains(w); });
  return words;
}

// Where the words of `phrase` occur, in order and adjacent, in `words`.
bool contains_phrase(const std::vector<std::string>& words,
                     const std::vector<std::string>& phrase) {
  if (phrase.empty() || phrase.size() > words.size()) return false;
  return std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

// '*' matches any run of characters; everything else matches itself, ignoring ASCII case.
bool glob_match(std::string_view pattern, std::string_view text) {
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

RE2::Options pattern_options() {
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  return o;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
  return out;
}

}  // namespace

std::string fold_text(std::string_view text) {
  const std::string valid = is_valid_utf8(text) ? std::string(text) : repair_utf8(text);
  utf8proc_uint8_t* folded = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                      UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
                   static_cast<utf8proc_ssize_t>(valid.size()), &folded, options);
  if (n < 0) return valid;  // cannot happen on valid UTF-8; keep the text rather than lose it
  std::string out(reinterpret_cast<const char*>(folded), static_cast<std::size_t>(n));
  std::free(folded);
  return out;
}

std::vector<std::string> fold_words(std::string_view text) {
  const std::string folded = fold_text(text);
  std::vector<std::string> words;
  std::string word;
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(folded.data());
  utf8proc_ssize_t i = 0;
  const auto size = static_cast<utf8proc_ssize_t>(folded.size());
  while (i < size) {
    utf8proc_int32_t c = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + i, size - i, &c);
    if (n <= 0) break;
    if (is_word_code_point(c)) {
      word.append(folded, static_cast<std::size_t>(i), static_cast<std::size_t>(n));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
    i += n;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::optional<std::string> check_pattern(std::string_view pattern) {
  RE2 re(pattern, pattern_options());
  if (re.ok()) return std::nullopt;
  return "not a valid regular expression: " + re.error();
}

result<std::vector<topic_example>> read_topic_examples(const std::string& path) {
  std::ifstream in(path);
  if (!in) return error{"invalid", "cannot read topic examples " + path};
  std::vector<topic_example> examples;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    const auto where = path + ":" + std::to_string(number);
    if (doc.HasParseError() || !doc.IsObject()) {
      return error{"invalid", where + ": not a JSON object"};
    }
    const auto text = doc.FindMember("text");
    const auto topic = doc.FindMember("topic");
    if (text == doc.MemberEnd() || !text->value.IsString() || topic == doc.MemberEnd() ||
        !topic->value.IsString() || topic->value.GetStringLength() == 0) {
      return error{"invalid", where + ": needs \"text\" and \"topic\" strings"};
    }
    examples.push_back({std::string(text->value.GetString(), text->value.GetStringLength()),
                        std::string(topic->value.GetString(), topic->value.GetStringLength())});
  }
  return examples;
}

// ---- naive Bayes -------------------------------------------------------------------------

void naive_bayes::learn(std::string_view topic, const std::vector<std::string>& words, int weight) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    if (weight < 0) return;
    it = topics_.emplace(std::string(topic), topic_counts{}).first;
  }
  auto& t = it->second;
  if (weight < 0 && t.examples == 0) return;
  t.examples += weight;
  examples_ = weight < 0 ? examples_ - 1 : examples_ + 1;
  for (const auto& w : words) {
    if (weight < 0 && !t.counts.contains(w)) continue;  // never counted: nothing to take back
    auto& count = t.counts[w];
    count += weight;
    t.words += weight;
    auto& total = vocabulary_[w];
    total += weight;
    if (count == 0) t.counts.erase(w);
    if (total == 0) vocabulary_.erase(w);
  }
  if (t.examples == 0) topics_.erase(it);
}

std::optional<naive_bayes::guess> naive_bayes::classify(
    const std::vector<std::string>& words) const {
  if (topics_.size() < 2) return std::nullopt;
  std::vector<const std::string*> known;
  for (const auto& w : words) {
    if (vocabulary_.contains(w)) known.push_back(&w);
  }
  if (known.empty()) return std::nullopt;

  const double vocabulary = static_cast<double>(vocabulary_.size());
  const double all_examples = static_cast<double>(examples_);
  // log P(topic) + sum log P(word | topic), Laplace-smoothed.
  const auto log_word = [vocabulary](const topic_counts& t, const std::string& w) {
    const auto c = t.counts.find(w);
    const double count = c == t.counts.end() ? 0.0 : static_cast<double>(c->second);
    return std::log((count + 1.0) / (static_cast<double>(t.words) + vocabulary));
  };
  std::vector<std::pair<double, const std::string*>> scores;
  for (const auto& [name, t] : topics_) {
    double s = std::log(static_cast<double>(t.examples) / all_examples);
    for (const auto* w : known) s += log_word(t, *w);
    scores.emplace_back(s, &name);
  }
  const auto best = std::max_element(
      scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double sum = 0;
  for (const auto& [s, name] : scores) sum += std::exp(s - best->first);

  guess g;
  g.topic = *best->second;
  g.confidence = 1.0 / sum;
  // The words whose likelihood under the winner most exceeds that under any other topic.
  const auto& winner = topics_.find(g.topic)->second;
  std::vector<std::pair<double, const std::string*>> evidence;
  for (const auto* w : known) {
    double strongest_other = -INFINITY;
    for (const auto& [name, t] : topics_) {
      if (name != g.topic) strongest_other = std::max(strongest_other, log_word(t, *w));
    }
    const double lift = log_word(winner, *w) - strongest_other;
    if (lift > 0 && std::none_of(evidence.begin(), evidence.end(),
                                 [w](const auto& e) { return *e.second == *w; })) {
      evidence.emplace_back(lift, w);
    }
  }
  std::sort(evidence.begin(), evidence.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; i < evidence.size() && i < 3; ++i) {
    g.evidence.push_back(*evidence[i].second);
  }
  return g;
}

// ---- the classifier ----------------------------------------------------------------------

struct topic_classifier::compiled_rule {
  topic_rule rule;
  std::vector<std::vector<std::string>> phrases;  // keywords, folded into words
  std::vector<std::unique_ptr<RE2>> patterns;
};

topic_classifier::topic_classifier(topic_settings settings)
    : default_topic_(std::move(settings.default_topic)), threshold_(settings.threshold) {
  for (auto& r : settings.rules) {
    auto c = std::make_unique<compiled_rule>();
    for (const auto& k : r.keywords) c->phrases.push_back(fold_words(k));
    for (const auto& p : r.patterns)
      c->patterns.push_back(std::make_unique<RE2>(p, pattern_options()));
    c->rule = std::move(r);
    rules_.push_back(std::move(c));
  }
}

topic_classifier::~topic_classifier() = default;
topic_classifier::topic_classifier(topic_classifier&&) noexcept = default;
topic_classifier& topic_classifier::operator=(topic_classifier&&) noexcept = default;

void topic_classifier::learn(std::string_view topic, std::string_view text) {
  model_.learn(topic, content_words(fold_words(text)));
}

topic_decision topic_classifier::classify(const topic_question& q) const {
  // Folded once: the rules' phrases and the classifier read the same words.
  const auto words = fold_words(q.text);
  std::string repaired;
  std::string_view valid = q.text;
  if (!is_valid_utf8(q.text)) valid = repaired = repair_utf8(q.text);

  struct score {
    double weight = 0;
    std::vector<std::string> keywords;
    std::vector<std::string> patterns;
  };
  std::map<std::string, score> scores;
  for (const auto& c : rules_) {
    const auto& r = c->rule;
    if (!r.channels.empty() &&
        std::find(r.channels.begin(), r.channels.end(), q.channel) == r.channels.end()) {
      continue;
    }
    if (!r.senders.empty() && std::none_of(r.senders.begin(), r.senders.end(), [&](const auto& s) {
          return glob_match(s, q.sender);
        })) {
      continue;
    }
    const bool unconditional = r.keywords.empty() && r.patterns.empty();
    for (std::size_t i = 0; i < c->phrases.size(); ++i) {
      if (contains_phrase(words, c->phrases[i])) {
        scores[r.topic].weight += r.weight;
        scores[r.topic].keywords.push_back(r.keywords[i]);
      }
    }
    for (std::size_t i = 0; i < c->patterns.size(); ++i) {
      if (RE2::PartialMatch(valid, *c->patterns[i])) {
        scores[r.topic].weight += r.weight;
        scores[r.topic].patterns.push_back(r.patterns[i]);
      }
    }
    // A rule with only conditions ("every SMS from this number") counts when they hold.
    if (unconditional) scores[r.topic].weight += r.weight;
  }

  const auto content = content_words(words);
  const auto guess = model_.classify(content);
  double total = 0;
  const std::pair<const std::string, score>* best = nullptr;
  for (const auto& entry : scores) {
    if (entry.second.weight <= 0) continue;
    total += entry.second.weight;
    const bool better =
        !best || entry.second.weight > best->second.weight ||
        (entry.second.weight == best->second.weight && guess && guess->topic == entry.first);
    if (better) best = &entry;
  }
  if (best) {
    std::string why;
    const auto& s = best->second;
    if (!s.keywords.empty()) {
      why = (s.keywords.size() == 1 ? "keyword " : "keywords ") + quoted_list(s.keywords);
    }
    if (!s.patterns.empty()) {
      why += (why.empty() ? "" : "; ") +
             std::string(s.patterns.size() == 1 ? "pattern " : "patterns ") +
             quoted_list(s.patterns);
    }
    if (why.empty()) why = "channel or sender rule";
    return {best->first, best->second.weight / total, "rule", why};
  }
  if (guess && guess->confidence >= threshold_) {
    std::string why = "words: ";
    for (std::size_t i = 0; i < guess->evidence.size(); ++i) {
      why += (i ? ", " : "") + guess->evidence[i];
    }
    if (guess->evidence.empty()) why = "the classifier's best guess";
    return {guess->topic, guess->confidence, "classifier", why};
  }
  char buffer[96];
  if (guess) {
    std::snprintf(buffer, sizeof buffer, "no rule matched; the classifier's %.2f is below %.2f",
                  guess->confidence, threshold_);
  } else {
    std::snprintf(buffer, sizeof buffer, "no rule matched and the classifier knows no word of it");
  }
  return {default_topic_, guess ? guess->confidence : 0.0, "default", buffer};
}

}  // namespace askdesk::core
