// Which topic a patron's question is about: the rules a library writes in its config
// (keywords and phrases, regular expressions, channel and sender conditions, with weights)
// and a multinomial naive Bayes classifier trained from labelled examples and from staff
// corrections. Every decision says why (the rule that matched, or the words that weighed
// most), so staff can see it and correct it.
//
// Text is compared case- and accent-insensitively on whole words: "Réservation" matches the
// keyword "reservation", "renew" does not match inside "renewal". Pure logic, no I/O except
// reading an examples file; not thread-safe (the hub owns one per process).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/core/result.hpp"

namespace askdesk::core {

// Lower case, accents and other marks removed, compatibility forms unified (NFKD, case
// folding): "Ça coûte ½ €" -> "ca coute 1/2 €". Ill-formed UTF-8 is repaired first.
std::string fold_text(std::string_view text);

// The folded words of `text`: runs of letters and digits ("E-book's 2nd copy" -> "e", "book",
// "s", "2nd", "copy").
std::vector<std::string> fold_words(std::string_view text);

// Why a regular expression is not usable (RE2 syntax, which has no backreferences and runs
// in linear time on any input), or nullopt when it is.
std::optional<std::string> check_pattern(std::string_view pattern);

// One topic's rules, as the config writes them.
struct topic_rule {
  std::string topic;
  std::vector<std::string> keywords;  // words or phrases ("interlibrary loan")
  std::vector<std::string> patterns;  // RE2, matched case-insensitively on the original text
  std::vector<std::string> channels;  // only on these channels; empty: any
  std::vector<std::string> senders;   // only from these addresses; '*' matches any run
  double weight = 1;                  // added to the topic's score for each keyword or pattern
};

// What the classifier looks at.
struct topic_question {
  std::string_view text;
  std::string_view channel;
  std::string_view sender;
};

struct topic_decision {
  std::string topic;
  double confidence = 0;  // 0..1
  std::string source;     // "rule", "classifier", "default" (or the hub's "requested")
  std::string why;        // "keyword 'renew'", "words: renew, due, fine", "below 0.60"
};

// A labelled example: the text of a question and its topic.
struct topic_example {
  std::string text;
  std::string topic;
};

// Reads a JSON-lines file of {"text": "...", "topic": "..."}; blank lines and lines starting
// with '#' are skipped. An error names the file and line.
result<std::vector<topic_example>> read_topic_examples(const std::string& path);

// Multinomial naive Bayes over folded words, with Laplace smoothing. Learning is counting, so
// an example is added (or, with weight -1, taken back) in time linear in its length.
class naive_bayes {
 public:
  // `weight` is 1 to learn an example, -1 to take one back.
  void learn(std::string_view topic, const std::vector<std::string>& words, int weight = 1);

  struct guess {
    std::string topic;
    double confidence = 0;              // the posterior probability of `topic`
    std::vector<std::string> evidence;  // up to three words that favoured it most
  };
  // nullopt until at least two topics have examples, or when no word of `words` is known.
  std::optional<guess> classify(const std::vector<std::string>& words) const;

  std::size_t examples() const { return examples_; }

 private:
  struct topic_counts {
    std::int64_t examples = 0;
    std::int64_t words = 0;
    std::unordered_map<std::string, std::int64_t> counts;
  };
  std::map<std::string, topic_counts, std::less<>> topics_;
  std::unordered_map<std::string, std::int64_t> vocabulary_;  // word -> count over all topics
  std::size_t examples_ = 0;
};

struct topic_settings {
  std::vector<topic_rule> rules;
  std::string default_topic;  // when neither rules nor a confident classifier decide
  double threshold = 0.6;     // the classifier's least confidence to decide
};

class topic_classifier {
 public:
  // REQUIRES: every pattern passed check_pattern() (the config loader checks them).
  explicit topic_classifier(topic_settings settings);
  ~topic_classifier();
  topic_classifier(topic_classifier&&) noexcept;
  topic_classifier& operator=(topic_classifier&&) noexcept;

  // Rules first: the topic whose matching rules weigh most (the classifier breaks a tie).
  // Without a matching rule, the classifier's guess when it is confident enough; otherwise
  // the default topic.
  topic_decision classify(const topic_question& q) const;

  // A labelled example (from the examples file, or a staff correction).
  void learn(std::string_view topic, std::string_view text);
  const naive_bayes& model() const { return model_; }

 private:
  struct compiled_rule;
  std::vector<std::unique_ptr<compiled_rule>> rules_;
  std::string default_topic_;
  double threshold_;
  naive_bayes model_;
};

}  // namespace askdesk::core
